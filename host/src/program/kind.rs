//! [`ProgramKind`]: whether a program is an ES module, a CommonJS script or
//! a global script.

use std::path::Path;

/// How a program's source is loaded, decided as Node.js decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgramKind {
    /// An ES module: `import`, `export`, top-level `await`; its default
    /// export is the value [`Runtime::run`](crate::Runtime::run) returns.
    Module,
    /// A CommonJS script: `require`, `module.exports`, `exports`,
    /// `__filename`, `__dirname`.
    CommonJs,
    /// Decided by the syntax, as Node.js does for code that says neither
    /// (`node -e`, a `.js` file outside any `"type"`): a CommonJS script
    /// unless only an ES module parses.
    #[default]
    Detect,
    /// A classic script in the global scope, as a REPL evaluates a line:
    /// its top-level declarations (`var`, `let`, `const`, `function`,
    /// `class`) belong to the realm, so a later script of the same process
    /// ([`ExecOptions::continue_process`](crate::ExecOptions::continue_process))
    /// sees them; top-level `await`; a global `require`, as Node's REPL
    /// has; its completion value (that of its last
    /// statement) is the value [`Runtime::run`](crate::Runtime::run)
    /// returns.
    Script,
}

impl ProgramKind {
    /// The kind of the file at `path`, as Node.js decides it: `.mjs` is a
    /// module and `.cjs` CommonJS; otherwise the `"type"` of the nearest
    /// `package.json` above it (`"module"` or `"commonjs"`); otherwise the
    /// syntax decides. Reads those `package.json` files; one that cannot be
    /// read or parsed is passed over, as if absent.
    pub fn of_file(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("mjs") => return Self::Module,
            Some("cjs") => return Self::CommonJs,
            _ => {}
        }
        let Ok(path) = std::path::absolute(path) else {
            return Self::Detect;
        };
        for directory in path.ancestors().skip(1) {
            let Ok(text) = std::fs::read_to_string(directory.join("package.json")) else {
                continue;
            };
            let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            return match manifest.get("type").and_then(|t| t.as_str()) {
                Some("module") => Self::Module,
                Some("commonjs") => Self::CommonJs,
                _ => Self::Detect,
            };
        }
        Self::Detect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_decides_first_then_the_nearest_package_json() {
        let dir = std::env::temp_dir().join(format!("polybox-kind-{}", std::process::id()));
        let nested = dir.join("lib");
        std::fs::create_dir_all(&nested).unwrap();
        let kind = |name: &str| ProgramKind::of_file(&nested.join(name));
        assert_eq!(kind("a.mjs"), ProgramKind::Module);
        assert_eq!(kind("a.cjs"), ProgramKind::CommonJs);
        for (path, manifest, expected) in [
            (
                dir.join("package.json"),
                r#"{"type":"module"}"#,
                ProgramKind::Module,
            ),
            (
                nested.join("package.json"),
                r#"{"name":"x"}"#,
                ProgramKind::Detect,
            ),
            (
                nested.join("package.json"),
                r#"{"type":"commonjs"}"#,
                ProgramKind::CommonJs,
            ),
        ] {
            std::fs::write(path, manifest).unwrap();
            assert_eq!(kind("a.js"), expected, "{manifest}");
        }
        assert_eq!(kind("a.mjs"), ProgramKind::Module);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
