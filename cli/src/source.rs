//! What a file on the command line holds: source code (JavaScript or
//! Python, as the sandbox's language says) or a WebAssembly component, told
//! apart by its first bytes (the wasm header), not by its name.

use std::path::Path;

use polybox::WasmComponent;

use crate::failure::Failure;

/// A handler's or module's code.
pub enum Code {
    /// Source in the sandbox's language.
    Script(String),
    Component(WasmComponent),
}

/// The wasm magic number, followed by a version and a layer.
const WASM_MAGIC: &[u8] = b"\0asm";
/// A core module's version and layer, which Polybox cannot run directly.
const CORE_MODULE: &[u8] = &[1, 0, 0, 0];

/// Reads `path` (`-` is standard input) as source code or a component.
pub fn read(path: &Path) -> Result<Code, Failure> {
    let shown = path.display();
    let bytes = read_bytes(path)?;
    if let Some(header) = bytes.strip_prefix(WASM_MAGIC) {
        if header.starts_with(CORE_MODULE) {
            return Err(Failure::File(format!(
                "{shown} is a core WebAssembly module, not a component; build it as a component (wit/README.md)"
            )));
        }
        let component = WasmComponent::from_bytes(bytes).with_name(shown.to_string());
        return Ok(Code::Component(component));
    }
    String::from_utf8(bytes).map(Code::Script).map_err(|_| {
        Failure::File(format!(
            "{shown} is neither a WebAssembly component nor UTF-8 source code"
        ))
    })
}

/// The bytes of `path`, or of standard input for `-`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    let read = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    read.map_err(|e| Failure::File(format!("cannot read {}: {e}", path.display())))
}
