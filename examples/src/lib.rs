//! The examples live in `rust/`; run one with `cargo run -p polybox-examples --example <name>`.
