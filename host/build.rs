//! Builds the JS guest component (`js-guest-component/`, target
//! `wasm32-wasip2`) so the host can embed it, and records its SHA-256 so
//! compiled code can be cached on disk under a key that changes with it.
//!
//! The embedded component has its data segments made passive: instantiating
//! it copies nothing into memory. Their bytes (and the memory's initial
//! size) go into `guest_memory.rs`, from which the host builds a guest's
//! first memory image (`backend/wasmtime/memory.rs`). Every instance starts
//! from an image, so wasmtime's copy would be wasted work.
//!
//! The guest is built by a nested `cargo` (`polybox-build`).

use std::env;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let root = polybox_build::workspace_root();
    polybox_build::rerun_if_changed(
        &root,
        &[
            "js-guest-component/src",
            "js-guest-component/node/dist",
            "js-guest-component/Cargo.toml",
            "js-guest-component/build.rs",
            "wit",
            "Cargo.lock",
        ],
    );
    let out = polybox_build::build_components(
        &root,
        &["polybox-js-guest"],
        "The JS guest needs `rustup target add wasm32-wasip2` and Debian's clang-19, \
         lld-19 and wasi-libc (`make deps` installs them).",
    );

    let wasm = out.join("polybox_js_guest.wasm");
    let bytes = std::fs::read(&wasm).expect("the guest build produced no component");
    check_imports(&bytes);
    if env::var_os("CARGO_FEATURE_HYPERLIGHT").is_some() {
        let aot = compile_for_hyperlight(&wasm, &bytes);
        println!("cargo:rustc-env=POLYBOX_JS_GUEST_AOT={}", aot.display());
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let mut passive = Passive::default();
    let mut component = wasm_encoder::Component::new();
    wasm_encoder::reencode::component_utils::parse_component(
        &mut passive,
        &mut component,
        wasmparser::Parser::new(0),
        &bytes,
        &bytes,
    )
    .expect("the guest component re-encodes");
    let component = component.finish();
    let embedded = out_dir.join("polybox_js_guest.wasm");
    std::fs::write(&embedded, &component).expect("OUT_DIR is writable");
    write_memory_source(&out_dir, &passive);

    let digest: String = Sha256::digest(&component)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "cargo:rustc-env=POLYBOX_JS_GUEST_WASM={}",
        embedded.display()
    );
    println!("cargo:rustc-env=POLYBOX_JS_GUEST_SHA256={digest}");
}

/// The hyperlight-wasm version the backend is built against (host/Cargo.toml
/// pins it): its AOT compiler must be the same version.
const HYPERLIGHT_WASM_VERSION: &str = "0.15.0";

/// The guest compiled ahead of time for Hyperlight's guest engine by
/// `hyperlight-wasm-aot` (`$HYPERLIGHT_WASM_AOT`, else from `PATH`), cached
/// next to the guest under its digest and the compiler's version.
fn compile_for_hyperlight(wasm: &Path, bytes: &[u8]) -> PathBuf {
    println!("cargo:rerun-if-env-changed=HYPERLIGHT_WASM_AOT");
    let tool = env::var_os("HYPERLIGHT_WASM_AOT").unwrap_or_else(|| "hyperlight-wasm-aot".into());
    let version = std::process::Command::new(&tool)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let expected = format!("hyperlight-wasm-aot {HYPERLIGHT_WASM_VERSION}");
    if version.as_deref() != Some(expected.as_str()) {
        panic!(
            "the hyperlight feature needs {expected} (found {version:?} at {tool:?}); \
             `make hyperlight-tools` installs it, or set HYPERLIGHT_WASM_AOT to its path"
        );
    }
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
fn check_imports(component: &[u8]) {
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
                        "the JS guest imports {name}, but it may import only polybox:sandbox \
                         interfaces; a libc function it links probably uses WASI (build it with \
                         the stable toolchain, or shim the function in libc_shims.c)"
                    );
                }
            }
            _ => {}
        }
    }
}

/// Re-encodes a component with every active data segment made passive,
/// collecting what those segments held.
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
            }
            wasmparser::DataKind::Passive => {}
            other => panic!("unsupported data segment {other:?}"),
        }
        // Same index, same bytes: `memory.init` and `data.drop` stay valid.
        data.passive(datum.data.iter().copied());
        Ok(())
    }
}

impl wasm_encoder::reencode::ReencodeComponent for Passive {}

/// Writes `guest_memory.rs`: the guest memory's initial size and the bytes
/// its data segments put there.
fn write_memory_source(out_dir: &Path, passive: &Passive) {
    let initial = passive.initial_memory.expect("the guest defines a memory");
    let mut source = format!(
        "/// Initial size of the guest's memory, in bytes.\npub const INITIAL_MEMORY: usize = {initial};\n\
         /// Where the guest's data segments go, and what they hold.\npub const DATA_SEGMENTS: &[(usize, &[u8])] = &[\n"
    );
    for (index, (offset, bytes)) in passive.segments.iter().enumerate() {
        let file = out_dir.join(format!("guest_data_{index}.bin"));
        std::fs::write(&file, bytes).expect("OUT_DIR is writable");
        source.push_str(&format!(
            "    ({offset}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    source.push_str("];\n");
    std::fs::write(out_dir.join("guest_memory.rs"), source).expect("OUT_DIR is writable");
}
