//! Integration and conformance tests live in `tests/`; this crate has no library code.
