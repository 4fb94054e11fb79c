//! Build-script support for crates that embed or test Polybox's components:
//! building `wasm32-wasip2` packages of the workspace with a nested `cargo`.
//!
//! The nested build uses its own target directory next to the outer one
//! (sharing the outer directory would deadlock on cargo's lock), shared by
//! every build script, so each guest crate compiles once. Cargo's freshness
//! checks make it a no-op when nothing changed.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The profile guest components are built with (see the workspace manifest).
pub const PROFILE: &str = "guest";

/// The workspace root, for a build script of a crate one level below it.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    manifest_dir
        .parent()
        .expect("the crate sits in the workspace root")
        .to_path_buf()
}

/// Asks cargo to rerun the build script when anything under these
/// workspace-relative paths changes.
pub fn rerun_if_changed(root: &Path, paths: &[&str]) {
    for path in paths {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
}

/// Builds `packages` for `wasm32-wasip2` and returns the directory holding
/// their `.wasm` files. Panics with `hint` when the build fails.
pub fn build_components(root: &Path, packages: &[&str], hint: &str) -> PathBuf {
    let target_dir = nested_target_dir();
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args(["build", "--target", "wasm32-wasip2", "--profile", PROFILE])
        .arg("--target-dir")
        .arg(&target_dir);
    for package in packages {
        build.args(["--package", package]);
    }
    // Keep the outer build's settings (host RUSTFLAGS, clippy as rustc
    // wrapper, target selection) out of the nested build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let outer = key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_MAKEFLAGS";
        if outer || key == "RUSTFLAGS" || key == "RUSTC_WORKSPACE_WRAPPER" || key == "RUSTDOCFLAGS"
        {
            build.env_remove(key.as_ref());
        }
    }
    let status = build.status().expect("cannot run cargo");
    if !status.success() {
        panic!("building {packages:?} for wasm32-wasip2 failed. {hint}");
    }
    target_dir.join("wasm32-wasip2").join(PROFILE)
}

/// `<target>/polybox-guest`, where `<target>` is the outer target directory
/// (`OUT_DIR` is `<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`).
fn nested_target_dir() -> PathBuf {
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
