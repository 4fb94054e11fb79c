//! Test fixture: a handler component that loops forever on the event
//! `"spin"` (so only a monitor, budget or kill ends the call) and otherwise
//! returns how many calls its instance has served, to show restarts. It
//! also exports `spin`, so that it can be loaded as a component module that
//! never returns.

use std::sync::atomic::{AtomicU32, Ordering};

use exports::polybox::sandbox::event_handler::Guest as Handler;
use polybox::sandbox::types::GuestError;

wit_bindgen::generate!({
    inline: "
        package polybox:runaway;
        world runaway {
            include polybox:sandbox/handler@0.1.0;
            export spin: func();
        }
    ",
    path: "../../../wit",
    generate_all,
});

static CALLS: AtomicU32 = AtomicU32::new(0);

struct Runaway;

impl Handler for Runaway {
    fn handle(event: String) -> Result<String, GuestError> {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        if event == "\"spin\"" {
            Runaway::spin();
        }
        Ok(calls.to_string())
    }
}

impl Guest for Runaway {
    fn spin() {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
}

export!(Runaway);
