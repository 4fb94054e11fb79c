//! Builds the JS guest component (`js-guest-component/`, target
//! `wasm32-wasip2`) so the host can embed it, and records its SHA-256 so
//! compiled code can be cached on disk under a key that changes with it.
//!
//! The guest is built by a nested `cargo` with its own target directory next
//! to the outer one (sharing the outer directory would deadlock on cargo's
//! lock). Cargo's freshness checks make this a no-op when nothing changed.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root");
    for watched in [
        "js-guest-component/src",
        "js-guest-component/Cargo.toml",
        "js-guest-component/build.rs",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let target_dir = guest_target_dir();
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args([
            "build",
            "--package",
            "polybox-js-guest",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "guest",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // Keep the outer build's settings (host RUSTFLAGS, clippy as rustc
    // wrapper, target selection) out of the guest build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let outer = key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_MAKEFLAGS";
        if outer || key == "RUSTFLAGS" || key == "RUSTC_WORKSPACE_WRAPPER" || key == "RUSTDOCFLAGS"
        {
            build.env_remove(key.as_ref());
        }
    }
    let status = build
        .status()
        .expect("cannot run cargo to build the JS guest");
    if !status.success() {
        panic!(
            "building the JS guest component failed. It needs `rustup target add wasm32-wasip2` \
             and Debian's clang-19, lld-19 and wasi-libc (`make deps` installs them)."
        );
    }

    let wasm = target_dir.join("wasm32-wasip2/guest/polybox_js_guest.wasm");
    let bytes = std::fs::read(&wasm).expect("the guest build produced no component");
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=POLYBOX_JS_GUEST_WASM={}", wasm.display());
    println!("cargo:rustc-env=POLYBOX_JS_GUEST_SHA256={digest}");
}

/// `<target>/polybox-guest`, where `<target>` is the outer target directory
/// (`OUT_DIR` is `<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`).
fn guest_target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let mut target = out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR is deep enough")
        .to_path_buf();
    if let Ok(triple) = env::var("TARGET")
        && target.file_name() == Some(Path::new(&triple).as_os_str())
    {
        target.pop();
    }
    target.join("polybox-guest")
}
