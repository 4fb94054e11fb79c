//! `Math.random`: xoshiro128** seeded from the host's secure random source
//! the first time it is used in each call into the instance.
//!
//! # Why every call
//!
//! QuickJS seeds its own generator from the clock when a context is
//! created. Seeding once from the host is not enough either: a guest's
//! memory is captured in images, snapshots and templates (the web-globals
//! bundle already draws a random number while the start image is made),
//! and every restore would replay the captured state, so two requests
//! served from one snapshot would see the same "random" tokens. The guest
//! cannot tell that it was restored, so each export forgets the seed
//! ([`forget_seed`]) and the first `Math.random` of the call draws a new one.
//! A call that never asks for a random number costs nothing.

use core::cell::Cell;

use rquickjs::{Ctx, Function, Result};

use crate::bindings::polybox::sandbox::platform;

/// The generator's state; `None` until drawn in this call.
struct State(Cell<Option<[u32; 4]>>);

// SAFETY: a wasm32 component instance is single-threaded.
unsafe impl Sync for State {}

static STATE: State = State(Cell::new(None));

/// Drops the seed: the next `Math.random` draws a fresh one from the host.
/// Every export calls this on entry.
pub fn forget_seed() {
    STATE.0.set(None);
}

fn seeded() -> [u32; 4] {
    loop {
        let bytes = platform::random_bytes(16);
        let word = |i: usize| {
            bytes
                .get(i * 4..i * 4 + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        let state = [word(0), word(1), word(2), word(3)];
        if state != [0; 4] {
            return state;
        }
    }
}

fn next(s: &mut [u32; 4]) -> u32 {
    let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(11);
    result
}

/// A number in [0, 1) with 53 random bits.
fn random() -> f64 {
    let mut state = STATE.0.get().unwrap_or_else(seeded);
    let high = f64::from(next(&mut state) >> 5);
    let low = f64::from(next(&mut state) >> 6);
    STATE.0.set(Some(state));
    (high * 67_108_864.0 + low) / 9_007_199_254_740_992.0
}

/// `Math.random`, for `globals.js` to install.
pub fn function<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>> {
    Function::new(ctx.clone(), random)?.with_name("random")
}
