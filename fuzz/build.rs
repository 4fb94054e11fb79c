//! Builds `textkit`, whose exports `host_call_args` calls with fuzzed
//! arguments.

fn main() {
    let root = polybox_build::workspace_root();
    polybox_build::rerun_if_changed(&root, &["components/textkit"]);
    let dir = polybox_build::build_components(
        &root,
        &["textkit"],
        "Components need `rustup target add wasm32-wasip2`.",
    );
    println!("cargo:rustc-env=POLYBOX_FUZZ_COMPONENTS={}", dir.display());
}
