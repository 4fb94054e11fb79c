//! Compiles `src/libc_shims.c`, which replaces the few libc functions QuickJS
//! reaches that would otherwise import WASI (stdio, clocks, assert).
//!
//! The archive is linked whole so its definitions are in place before
//! wasi-libc is searched, whatever order the linker sees references in.
//!
//! The shadow stack (C and Rust frames in linear memory) gets 2 MiB, room
//! for the deepest JavaScript recursion the host allows; pages it never
//! touches cost nothing.
fn main() {
    println!("cargo:rustc-link-arg=-zstack-size=2097152");
    println!("cargo:rerun-if-changed=src/libc_shims.c");
    println!("cargo:rerun-if-changed=../wit");
    cc::Build::new()
        .file("src/libc_shims.c")
        .warnings(true)
        .cargo_metadata(false)
        .compile("polybox_libc_shims");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rustc-link-search=native={out}");
    println!("cargo:rustc-link-lib=static:+whole-archive=polybox_libc_shims");
}
