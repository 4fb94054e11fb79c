//! Arbitrary text as a module's and a handler's source: loading and one
//! call end in a result or a coded error, bounded in time.

#![no_main]

use libfuzzer_sys::fuzz_target;
use polybox::SandboxBuilder;
use polybox_fuzz::{check_error, limit, settle};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (module, handler) = text.split_once('\u{0}').unwrap_or(("export const x = 1;", &text));
    let mut sandbox = SandboxBuilder::new().build().unwrap().load_runtime().unwrap();
    sandbox.add_module("m", module, None).unwrap();
    sandbox.add_handler("h", handler).unwrap();
    let mut loaded = match sandbox.get_loaded_sandbox_with_monitor(&limit()) {
        Ok(loaded) => loaded,
        Err(failure) => {
            check_error(&failure.error);
            // The sandbox comes back loadable.
            let mut sandbox = failure.into_sandbox();
            sandbox.clear_handlers();
            sandbox.clear_modules();
            sandbox.get_loaded_sandbox().expect("an emptied sandbox loads");
            return;
        }
    };
    let snapshot = loaded.snapshot().unwrap();
    let result = loaded.handle_event_with_monitor("h", "{}", &limit(), Some(false));
    settle(&mut loaded, &snapshot, &result);
});
