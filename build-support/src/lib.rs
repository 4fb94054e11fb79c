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
///
/// The nested build uses the outer build's cargo, or the rustup toolchain
/// named by `POLYBOX_GUEST_TOOLCHAIN` (so a nightly outer build, as for
/// fuzzing, can build guests with the toolchain they are tested with).
pub fn build_components(root: &Path, packages: &[&str], hint: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed=POLYBOX_GUEST_TOOLCHAIN");
    let target_dir = nested_target_dir();
    let mut build = match env::var("POLYBOX_GUEST_TOOLCHAIN") {
        Ok(toolchain) => {
            let which = Command::new("rustup")
                .args(["which", "--toolchain", &toolchain, "rustc"])
                .output()
                .expect("POLYBOX_GUEST_TOOLCHAIN needs rustup");
            assert!(
                which.status.success(),
                "rustup has no toolchain {toolchain:?}"
            );
            let rustc = String::from_utf8(which.stdout).expect("a UTF-8 path");
            let mut rustup = Command::new("rustup");
            rustup
                .args(["run", &toolchain, "cargo"])
                .env("RUSTC", rustc.trim());
            for outer in [
                "RUSTUP_TOOLCHAIN",
                "RUSTDOC",
                "RUSTC_WRAPPER",
                "LD_LIBRARY_PATH",
            ] {
                rustup.env_remove(outer);
            }
            rustup
        }
        Err(_) => Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
    };
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

/// `<target>/polybox-guest`, where `<target>` is the outer target directory:
/// the nearest ancestor of `OUT_DIR` holding cargo's `CACHEDIR.TAG`.
fn nested_target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .expect("OUT_DIR lies inside a cargo target directory");
    target.join("polybox-guest")
}
