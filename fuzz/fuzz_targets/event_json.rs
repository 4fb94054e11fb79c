//! Arbitrary bytes as the event of `handle_event`: valid JSON must be
//! accepted and come back as JSON; anything else is `ERR_INVALID_ARG`.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use polybox::{LoadedJSSandbox, SandboxBuilder, Snapshot};
use polybox_fuzz::{limit, settle};

thread_local! {
    static SANDBOX: RefCell<(LoadedJSSandbox, Snapshot)> = RefCell::new({
        let mut sandbox = SandboxBuilder::new().build().unwrap().load_runtime().unwrap();
        sandbox.add_handler("echo", "function handler(e) { return e; }").unwrap();
        sandbox
            .add_handler(
                "walk",
                "function handler(e) { let n = 0; JSON.stringify(e, (k, v) => { n++; return v; }); return n; }",
            )
            .unwrap();
        let mut loaded = sandbox.get_loaded_sandbox().unwrap();
        let snapshot = loaded.snapshot().unwrap();
        (loaded, snapshot)
    });
}

fuzz_target!(|data: &[u8]| {
    let event = String::from_utf8_lossy(data);
    // serde_json's own limit is 128 levels, well inside the sandbox's.
    let valid = serde_json::from_str::<serde_json::Value>(&event).is_ok();
    SANDBOX.with_borrow_mut(|(loaded, snapshot)| {
        for handler in ["echo", "walk"] {
            let result = loaded.handle_event_with_monitor(handler, &*event, &limit(), Some(false));
            if valid {
                assert!(result.is_ok(), "valid JSON refused: {result:?}");
            }
            settle(loaded, snapshot, &result);
        }
    });
});
