//! What a script gets besides the ECMAScript standard library: `console` and
//! `print` (to the host's log), `TextEncoder`/`TextDecoder`, the `crypto`
//! module, what hyperlight-js guests expect (`hyperlight.js`); and what a program gets besides (`process.js`): its process,
//! standard streams, timers and console output, and the session calls of
//! isola's guest API (`session.js`); and the `fetch` handlers that
//! answer HTTP requests (`serving.js`). Nothing here reaches the
//! host beyond the `platform` and `process` interfaces.

pub mod bytes;
pub mod crypto;
pub mod globals;
pub mod hyperlight;
pub mod process;
pub mod random;
pub mod serving;
pub mod session;
pub mod timers;
pub mod tools;
pub mod url;
pub mod web;
