//! What a script gets besides the ECMAScript standard library: `console` and
//! `print` (to the host's log), `TextEncoder`/`TextDecoder`, and the `crypto`
//! module. Nothing here reaches the host beyond the `platform` interface.

pub mod bytes;
pub mod crypto;
pub mod globals;
