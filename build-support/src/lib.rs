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
    let out = target_dir.join("wasm32-wasip2").join(PROFILE);
    forget_other_checkouts_outputs(&out, root, packages);
    let status = build.status().expect("cannot run cargo");
    if !status.success() {
        panic!("building {packages:?} for wasm32-wasip2 failed. {hint}");
    }
    out
}

/// Checkouts that share a target directory share the guests' output files,
/// whose names carry no hash: cargo counts this checkout's build fresh even
/// when another checkout's build wrote the file since (a clone would embed
/// another checkout's guest). So a package whose outputs were last built
/// from another root has them removed first, and cargo builds it again (its
/// dependencies stay built).
fn forget_other_checkouts_outputs(out: &Path, root: &Path, packages: &[&str]) {
    let ours = root.to_string_lossy();
    let _ = std::fs::create_dir_all(out);
    for package in packages {
        let name = package.replace('-', "_");
        let marker = out.join(format!(".{name}.built-from"));
        if std::fs::read_to_string(&marker).is_ok_and(|theirs| theirs == ours) {
            continue;
        }
        for file in [
            out.join(format!("{name}.wasm")),
            out.join("deps").join(format!("{name}.wasm")),
            out.join("deps").join(format!("{name}.d")),
        ] {
            let _ = std::fs::remove_file(file);
        }
        let _ = std::fs::write(&marker, ours.as_bytes());
    }
}

/// `<target>/polybox-guest`, where `<target>` is the outer build's target
/// (or build) directory, read off the shape of `OUT_DIR` alone:
/// `<target>[/<triple>]/<profile>/build/<package>-<hash>/out` (or, in cargo's
/// newer layout, `.../build/<package>/<hash>/out`). Nothing on disk is
/// consulted, so the answer does not depend on which build ran first.
fn nested_target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target = env::var_os("TARGET").expect("set by cargo");
    target_dir_of(&out_dir, &target).join("polybox-guest")
}

/// The target directory holding `out_dir`, a build script's `OUT_DIR` for
/// target `triple`.
fn target_dir_of<'a>(out_dir: &'a Path, triple: &std::ffi::OsStr) -> &'a Path {
    let build = out_dir
        .ancestors()
        .skip(1)
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .expect("OUT_DIR lies inside <target>/<profile>/build");
    let profile = build.parent().expect("the build directory has a parent");
    let target = profile
        .parent()
        .expect("the profile directory has a parent");
    match target.file_name() {
        // `--target <triple>` puts a directory named for it between the two.
        Some(name) if name == triple => target.parent().expect("the triple directory has a parent"),
        _ => target,
    }
}

#[cfg(test)]
mod tests {
    use super::{forget_other_checkouts_outputs, target_dir_of};
    use std::ffi::OsStr;
    use std::path::Path;

    const HOST: &str = "x86_64-unknown-linux-gnu";

    #[test]
    fn finds_the_target_directory_of_a_host_build() {
        let out = Path::new("/w/target/debug/build/polybox-0123abcd/out");
        assert_eq!(target_dir_of(out, OsStr::new(HOST)), Path::new("/w/target"));
    }

    #[test]
    fn skips_the_triple_directory_of_a_cross_build() {
        let out =
            Path::new("/w/target/x86_64-unknown-linux-gnu/release/build/polybox-0123abcd/out");
        assert_eq!(target_dir_of(out, OsStr::new(HOST)), Path::new("/w/target"));
    }

    #[test]
    fn understands_the_newer_build_directory_layout() {
        let out = Path::new("/w/target/debug/build/polybox/0123abcd/out");
        assert_eq!(target_dir_of(out, OsStr::new(HOST)), Path::new("/w/target"));
    }

    #[test]
    fn ignores_directories_named_build_above_the_target() {
        let out = Path::new("/build/x/target/debug/build/polybox-0123abcd/out");
        assert_eq!(
            target_dir_of(out, OsStr::new(HOST)),
            Path::new("/build/x/target")
        );
    }

    #[test]
    fn another_checkouts_guest_is_rebuilt_and_ours_kept() {
        let out = std::env::temp_dir().join(format!("polybox-build-test-{}", std::process::id()));
        let guest = out.join("deps/the_guest.wasm");
        std::fs::create_dir_all(out.join("deps")).unwrap();
        let built = |by: &str| {
            std::fs::write(&guest, by).unwrap();
            std::fs::write(out.join(".the_guest.built-from"), by).unwrap();
        };
        built("/checkout/a");
        forget_other_checkouts_outputs(&out, Path::new("/checkout/a"), &["the-guest"]);
        assert!(guest.exists());
        forget_other_checkouts_outputs(&out, Path::new("/checkout/b"), &["the-guest"]);
        assert!(!guest.exists());
        std::fs::remove_dir_all(&out).unwrap();
    }
}
