//! Builds the components the benchmark embeds (`components/textkit`,
//! `components/kv-store`, `components/echo-handler`), so `polybox bench` needs
//! no files at run time.

fn main() {
    let root = polybox_build::workspace_root();
    polybox_build::rerun_if_changed(&root, &["components", "wit", "Cargo.lock"]);
    let dir = polybox_build::build_components(
        &root,
        &["echo-handler", "textkit", "kv-store"],
        "Components need `rustup target add wasm32-wasip2` (`make deps` adds it).",
    );
    println!("cargo:rustc-env=POLYBOX_BENCH_COMPONENTS={}", dir.display());
}
