//! Builds the guest components so the host can embed them, and records
//! each one's SHA-256 so compiled code can be cached on disk under a key
//! that changes with it:
//!
//! - the JS guest (`js-guest-component/`, target `wasm32-wasip2`), by a
//!   nested `cargo` (`polybox-build`);
//! - the Python guest (`python-guest-component/`), by `componentize-py`
//!   (`$COMPONENTIZE_PY`, else from `PATH`; `make deps` installs the pinned
//!   version), which wraps CPython and the guest's Python sources in a
//!   component of the `python-runtime` world, with WASI stubbed out.
//!
//! Each embedded component has its data segments made passive and emptied:
//! instantiating it copies nothing into memory. Their bytes (and the
//! memory's initial size) go into `<guest>_memory.rs`, from which the host
//! builds a guest's first memory image (`backend/wasmtime/image.rs`). Every
//! instance starts from an image, so wasmtime's copy would be wasted work.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The componentize-py release the Python guest is built with (the
/// Makefile installs it).
const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

fn main() {
    let root = polybox_build::workspace_root();
    polybox_build::rerun_if_changed(
        &root,
        &[
            "js-guest-component/src",
            "js-guest-component/node/dist",
            "js-guest-component/Cargo.toml",
            "js-guest-component/build.rs",
            "python-guest-component/src",
            "vendor/rquickjs-sys",
            "wit",
            "Cargo.lock",
        ],
    );
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let out = polybox_build::build_components(
        &root,
        &["polybox-js-guest"],
        "The JS guest needs `rustup target add wasm32-wasip2` and Debian's clang-19, \
         lld-19 and wasi-libc (`make deps` installs them).",
    );

    let wasm = out.join("polybox_js_guest.wasm");
    let bytes = std::fs::read(&wasm).expect("the guest build produced no component");
    check_imports("the JS guest", &bytes);
    if env::var_os("CARGO_FEATURE_HYPERLIGHT").is_some() {
        let aot = compile_for_hyperlight(&wasm, &bytes);
        println!("cargo:rustc-env=POLYBOX_JS_GUEST_AOT={}", aot.display());
    }
    embed(&out_dir, "js_guest", &bytes);

    let python = build_python_guest(&root, &out_dir);
    check_imports("the Python guest", &python);
    embed(&out_dir, "python_guest", &python);
}

/// Embeds guest `name`: writes `<name>.wasm` (its data segments passive and
/// empty) and `<name>_memory.rs` (what they held) to `out_dir`, and sets
/// `POLYBOX_<NAME>_WASM` and `POLYBOX_<NAME>_SHA256`.
fn embed(out_dir: &Path, name: &str, bytes: &[u8]) {
    let mut passive = Passive::default();
    let mut component = wasm_encoder::Component::new();
    wasm_encoder::reencode::component_utils::parse_component(
        &mut passive,
        &mut component,
        wasmparser::Parser::new(0),
        bytes,
        bytes,
    )
    .expect("the guest component re-encodes");
    let component = component.finish();
    let embedded = out_dir.join(format!("{name}.wasm"));
    std::fs::write(&embedded, &component).expect("OUT_DIR is writable");
    write_memory_source(out_dir, name, &passive);

    let digest: String = Sha256::digest(&component)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let upper = name.to_uppercase();
    println!(
        "cargo:rustc-env=POLYBOX_{upper}_WASM={}",
        embedded.display()
    );
    println!("cargo:rustc-env=POLYBOX_{upper}_SHA256={digest}");
}

/// The Python guest, built by componentize-py into `out_dir`.
fn build_python_guest(root: &Path, out_dir: &Path) -> Vec<u8> {
    let hint = format!(
        "the Python guest needs componentize-py {COMPONENTIZE_PY_VERSION} (`make deps` installs it \
         and sets COMPONENTIZE_PY; or `pip install componentize-py=={COMPONENTIZE_PY_VERSION}`)"
    );
    let tool = pinned_tool(
        "COMPONENTIZE_PY",
        "componentize-py",
        COMPONENTIZE_PY_VERSION,
        &hint,
    );
    // componentize-py writes `__pycache__` next to the sources it imports:
    // it imports a copy, so the sources (whose changes rerun this script)
    // stay untouched.
    let sources = out_dir.join("python-guest-src");
    let _ = std::fs::remove_dir_all(&sources);
    copy_dir(&root.join("python-guest-component/src"), &sources);
    let wasm = out_dir.join("python_guest_raw.wasm");
    let status = Command::new(&tool)
        .arg("--quiet")
        .arg("--wit-path")
        .arg(root.join("wit"))
        .args(["--world", "python-runtime", "componentize", "--stub-wasi"])
        .arg("--python-path")
        .arg(&sources)
        .arg("--output")
        .arg(&wasm)
        .arg("polybox_app")
        .env_remove("VIRTUAL_ENV")
        .current_dir(out_dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {tool:?}: {e}; {hint}"));
    assert!(
        status.success(),
        "componentize-py failed to build the Python guest"
    );
    std::fs::read(&wasm).expect("componentize-py wrote the Python guest")
}

/// The tool `name` (`$<variable>`, else from `PATH`), checked to be
/// `version` by its `--version`; panics with `hint` otherwise.
fn pinned_tool(variable: &str, name: &str, version: &str, hint: &str) -> std::ffi::OsString {
    println!("cargo:rerun-if-env-changed={variable}");
    let tool = env::var_os(variable).unwrap_or_else(|| name.into());
    let found = Command::new(&tool)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let expected = format!("{name} {version}");
    if found.as_deref() != Some(expected.as_str()) {
        panic!("{expected} is needed (found {found:?} at {tool:?}): {hint}");
    }
    tool
}

/// Copies the `.py` files under `from` to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("OUT_DIR is writable");
    for entry in std::fs::read_dir(from).expect("the Python guest's sources are readable") {
        let entry = entry.expect("the Python guest's sources are readable");
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&path, &to.join(entry.file_name()));
            }
        } else if path.extension().is_some_and(|ext| ext == "py") {
            std::fs::copy(&path, to.join(entry.file_name())).expect("OUT_DIR is writable");
        }
    }
}

/// The hyperlight-wasm version the backend is built against (host/Cargo.toml
/// pins it): its AOT compiler must be the same version.
const HYPERLIGHT_WASM_VERSION: &str = "0.15.0";

/// The guest compiled ahead of time for Hyperlight's guest engine by
/// `hyperlight-wasm-aot` (`$HYPERLIGHT_WASM_AOT`, else from `PATH`), cached
/// next to the guest under its digest and the compiler's version.
fn compile_for_hyperlight(wasm: &Path, bytes: &[u8]) -> PathBuf {
    let tool = pinned_tool(
        "HYPERLIGHT_WASM_AOT",
        "hyperlight-wasm-aot",
        HYPERLIGHT_WASM_VERSION,
        "the hyperlight feature needs it: `make hyperlight-tools` installs it, or set \
         HYPERLIGHT_WASM_AOT to its path",
    );
    let digest: String = Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cache = wasm
        .parent()
        .and_then(Path::parent)
        .expect("the guest sits in <target>/<triple>/<profile>")
        .join("hyperlight-aot");
    let aot = cache.join(format!(
        "polybox_js_guest-{digest}-{HYPERLIGHT_WASM_VERSION}.aot"
    ));
    if !aot.exists() {
        std::fs::create_dir_all(&cache).expect("the target directory is writable");
        let partial = aot.with_extension("aot.partial");
        let status = std::process::Command::new(&tool)
            .arg("compile")
            .arg("--component")
            .arg(wasm)
            .arg(&partial)
            .status()
            .expect("cannot run hyperlight-wasm-aot");
        assert!(
            status.success(),
            "hyperlight-wasm-aot failed to compile the JS guest"
        );
        std::fs::rename(&partial, &aot).expect("the target directory is writable");
    }
    aot
}

/// Fails the build unless the guest imports only `polybox:sandbox`
/// interfaces: the same artifact must run where no WASI exists, and a
/// toolchain whose libc pulls WASI in would silently break that.
fn check_imports(guest: &str, component: &[u8]) {
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.expect("the guest component parses") {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(imports) if depth == 0 => {
                for import in imports {
                    let name = import.expect("the guest's imports parse").name.name;
                    assert!(
                        name.starts_with("polybox:sandbox/"),
                        "{guest} imports {name}, but it may import only polybox:sandbox \
                         interfaces; a libc function it links probably uses WASI (build the JS \
                         guest with the stable toolchain, or shim the function in libc_shims.c; \
                         build the Python guest with `--stub-wasi`)"
                    );
                }
            }
            _ => {}
        }
    }
}

/// Re-encodes a component with every active data segment made passive and
/// empty, collecting what those segments held. (An active segment is
/// dropped once instantiation has copied it, so no code can `memory.init`
/// from it: the empty passive segment behaves the same.)
#[derive(Default)]
struct Passive {
    /// `(offset, bytes)` of each former active segment.
    segments: Vec<(u32, Vec<u8>)>,
    /// Initial size, in bytes, of the memory the segments initialise.
    initial_memory: Option<u64>,
}

impl wasm_encoder::reencode::Reencode for Passive {
    type Error = std::convert::Infallible;

    fn parse_memory_section(
        &mut self,
        memories: &mut wasm_encoder::MemorySection,
        section: wasmparser::MemorySectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        for memory in section.clone() {
            let memory = memory?;
            assert!(
                self.initial_memory.is_none(),
                "the guest defines more than one memory"
            );
            self.initial_memory = Some(memory.initial * 65536);
        }
        wasm_encoder::reencode::utils::parse_memory_section(self, memories, section)
    }

    fn parse_data(
        &mut self,
        data: &mut wasm_encoder::DataSection,
        datum: wasmparser::Data<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        match &datum.kind {
            wasmparser::DataKind::Active {
                memory_index: 0,
                offset_expr,
            } => {
                let offset = match offset_expr.get_operators_reader().read()? {
                    wasmparser::Operator::I32Const { value } => value as u32,
                    other => panic!("unsupported data segment offset {other:?}"),
                };
                self.segments.push((offset, datum.data.to_vec()));
                // Same index: `data.drop` stays valid.
                data.passive(std::iter::empty());
            }
            wasmparser::DataKind::Passive => {
                data.passive(datum.data.iter().copied());
            }
            other => panic!("unsupported data segment {other:?}"),
        }
        Ok(())
    }
}

impl wasm_encoder::reencode::ReencodeComponent for Passive {}

/// Segments closer than this are written as one, the gap zero-filled.
const COALESCE_GAP: u32 = 4096;

/// Writes `<name>_memory.rs`: the guest memory's initial size and the bytes
/// its data segments put there (adjacent segments joined).
fn write_memory_source(out_dir: &Path, name: &str, passive: &Passive) {
    let initial = passive.initial_memory.expect("the guest defines a memory");
    let mut segments = passive.segments.clone();
    segments.sort_by_key(|(offset, _)| *offset);
    let mut joined: Vec<(u32, Vec<u8>)> = Vec::new();
    for (offset, bytes) in segments {
        if let Some((start, last)) = joined.last_mut() {
            let end = *start + last.len() as u32;
            if offset >= end && offset - end <= COALESCE_GAP {
                last.resize((offset - *start) as usize, 0);
                last.extend_from_slice(&bytes);
                continue;
            }
        }
        joined.push((offset, bytes));
    }
    let mut source = format!(
        "/// Initial size of the guest's memory, in bytes.\npub const INITIAL_MEMORY: usize = {initial};\n\
         /// Where the guest's data segments go, and what they hold.\npub const DATA_SEGMENTS: &[(usize, &[u8])] = &[\n"
    );
    for (index, (offset, bytes)) in joined.iter().enumerate() {
        let file = out_dir.join(format!("{name}_data_{index}.bin"));
        std::fs::write(&file, bytes).expect("OUT_DIR is writable");
        source.push_str(&format!(
            "    ({offset}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    source.push_str("];\n");
    std::fs::write(out_dir.join(format!("{name}_memory.rs")), source).expect("OUT_DIR is writable");
}
