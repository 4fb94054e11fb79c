//! Builds the components the tests load (`components/` and the fixtures in
//! `tests/components/`) and tells the tests where they are, as
//! `POLYBOX_COMPONENTS` (see `polybox_tests::component`).

fn main() {
    let root = polybox_build::workspace_root();
    polybox_build::rerun_if_changed(
        &root,
        &["components", "tests/components", "wit", "Cargo.lock"],
    );
    let dir = polybox_build::build_components(
        &root,
        &[
            "echo-handler",
            "textkit",
            "kv-store",
            "runaway-handler",
            "unlinkable",
            "escape-probe",
            "http-hello",
        ],
        "Components need `rustup target add wasm32-wasip2` (`make deps` adds it).",
    );
    println!("cargo:rustc-env=POLYBOX_COMPONENTS={}", dir.display());
}
