//! `wit/sandbox.wasm` is `wit/sandbox.wit` binary-encoded: the form the
//! Hyperlight backend's build reads (`WIT_WORLD`). This keeps the two in
//! step; `make wit` (`POLYBOX_UPDATE_WIT=1`) rewrites the binary.

use std::path::Path;

#[test]
fn the_binary_wit_matches_the_text() {
    // At run time, not `env!`: builds share a target directory across
    // checkouts, and a test binary built in another would read its files.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it");
    let wit = Path::new(&manifest_dir).join("../wit");
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(&wit).expect("wit/ parses");
    let encoded = wit_component::encode(&resolve, package).expect("wit/ encodes");
    let binary = wit.join("sandbox.wasm");
    if std::env::var_os("POLYBOX_UPDATE_WIT").is_some() {
        std::fs::write(&binary, &encoded).expect("wit/ is writable");
    }
    let committed = std::fs::read(&binary).unwrap_or_default();
    assert!(
        committed == encoded,
        "wit/sandbox.wasm is out of date with wit/sandbox.wit; run `make wit`"
    );
}
