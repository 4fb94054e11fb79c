//! Arbitrary paths, host symbolic-link layouts and permission rules against
//! a sandbox's filesystem (`polybox:fs`, as a program's `fs` calls it):
//! nothing outside the mount is ever read or changed, and a path the policy
//! denies is never read or changed, whatever aliases lead to it.
//!
//! The host side: `<base>/outside/secret` (never reachable) and
//! `<base>/mount/keep/private/key` (mounted at `/m`; `/m/keep/private` is
//! denied by the last rule, so removing or renaming `/m/keep` must fail),
//! plus, per input, entries under `<base>/mount/play`: directories, files
//! and symbolic links whose targets are arbitrary (absolute, climbing out,
//! into `private`, looping).

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use polybox::Mount;
use polybox::fuzzing::FsHarness;
use polybox::permissions::{Mode, Permissions, Rule, Scope};

const SECRET: &[u8] = b"SECRET-OUTSIDE";
const PRIVATE: &[u8] = b"PRIVATE-KEY";
/// Path segments paths are made of.
const SEGMENTS: &[&str] = &[
    "m", "play", "keep", "private", "key", "a", "b", "..", ".", "", "outside", "secret", "tmp", "etc",
    "passwd", "proc", "self", "x", "mount", "link",
];
const OPERATIONS: &[&str] = &[
    "read", "write", "stat", "readdir", "mkdir", "rm", "rename", "readlink", "truncate", "symlink",
];
const FUNCTIONS: &[&str] = &[
    "stat", "read", "load", "write", "readdir", "mkdir", "rm", "rename", "readlink", "symlink",
    "truncate",
];

fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("polybox-fuzz-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::create_dir_all(base.join("mount/keep/private")).unwrap();
        std::fs::write(base.join("outside/secret"), SECRET).unwrap();
        std::fs::write(base.join("mount/keep/private/key"), PRIVATE).unwrap();
        base
    })
}

/// Reads fuzz bytes as choices.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[usize::from(self.byte()) % from.len()]
    }

    fn path(&mut self, absolute: bool) -> String {
        let n = self.byte() % 6;
        let segments: Vec<&str> = (0..n).map(|_| self.pick(SEGMENTS)).collect();
        let path = segments.join("/");
        if absolute { format!("/{path}") } else { path }
    }

    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// Lays out `<base>/mount/play` afresh from the input: directories and
/// files first, then the links (so that laying out never follows one), each
/// made only where its directory really lies inside `play`.
fn layout(choices: &mut Choices<'_>) {
    let play = base().join("mount/play");
    let _ = std::fs::remove_dir_all(&play);
    std::fs::create_dir_all(&play).unwrap();
    let real_play = play.canonicalize().unwrap();
    let inside = |at: &Path| {
        at.parent()
            .and_then(|dir| dir.canonicalize().ok())
            .is_some_and(|dir| dir.starts_with(&real_play))
    };
    let mut links = Vec::new();
    for _ in 0..choices.byte() % 8 {
        let at = play.join(choices.path(false));
        if !at.starts_with(&play) || at.components().any(|c| c.as_os_str() == "..") {
            continue;
        }
        match choices.byte() % 3 {
            0 => {
                let _ = std::fs::create_dir_all(&at);
            }
            1 => {
                let _ = std::fs::create_dir_all(at.parent().unwrap());
                if inside(&at) {
                    let _ = std::fs::write(&at, b"play");
                }
            }
            _ => {
                let absolute = choices.byte() % 2 == 0;
                let target = choices.path(absolute);
                let target = if absolute && choices.byte() % 2 == 0 {
                    format!("{}{target}", base().display())
                } else {
                    target
                };
                links.push((at, target));
            }
        }
    }
    for (at, target) in links {
        if inside(&at) {
            let _ = std::os::unix::fs::symlink(target, &at);
        }
    }
}

fn policy(choices: &mut Choices<'_>) -> Permissions {
    let mut rules = Vec::new();
    for _ in 0..choices.byte() % 4 {
        let mode = if choices.byte() % 2 == 0 { Mode::Allow } else { Mode::Deny };
        let operations: Vec<&str> = (0..choices.byte() % 3).map(|_| choices.pick(OPERATIONS)).collect();
        let path = choices.path(true);
        // A path with `.` or `..` segments is refused as a rule.
        if let Ok(rule) = Rule::parse(mode, &operations, &[&path]) {
            rules.push(rule);
        }
    }
    rules.push(Rule::parse(Mode::Deny, &[], &["/m/keep/private"]).unwrap());
    let default = if choices.byte() % 2 == 0 { Mode::Allow } else { Mode::Deny };
    Permissions { fs: Some(Scope::rules(default, rules)), ..Permissions::default() }
}

/// Fails if a read answer carries what must stay unreachable.
fn check_answer(function: &str, answer: &str) {
    if function != "read" && function != "load" {
        return;
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(answer) else {
        return;
    };
    if let Some(text) = value.get("ok").and_then(|v| v.as_str()) {
        let bytes = if function == "read" {
            STANDARD.decode(text).unwrap_or_default()
        } else {
            text.as_bytes().to_vec()
        };
        for marker in [SECRET, PRIVATE] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker),
                "{function} reached {:?}: {answer}",
                String::from_utf8_lossy(marker)
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut choices = Choices(data);
    layout(&mut choices);
    let read_only = choices.byte() % 2 == 0;
    let mount = if read_only {
        Mount::read_only("/m", base().join("mount"))
    } else {
        Mount::read_write("/m", base().join("mount"))
    };
    let harness = FsHarness::new(vec![mount], vec![("/seed".into(), b"seed".to_vec())], policy(&mut choices)).unwrap();
    for _ in 0..16 {
        if choices.done() {
            break;
        }
        let function = choices.pick(FUNCTIONS);
        let absolute = choices.byte() % 8 != 0;
        let path = choices.path(absolute);
        let other = choices.path(true);
        let args = match function {
            "write" => serde_json::json!([path, STANDARD.encode(b"w"), choices.byte() % 2 == 0, false]),
            "rename" => serde_json::json!([path, other]),
            "symlink" => serde_json::json!([other, path]),
            "rm" => serde_json::json!([path, choices.pick(&["file", "dir", "tree"])]),
            "mkdir" => serde_json::json!([path, choices.byte() % 2 == 0]),
            "truncate" => serde_json::json!([path, choices.byte()]),
            "read" => serde_json::json!([path, choices.byte(), 1 << 20]),
            _ => serde_json::json!([path, choices.byte() % 2 == 0]),
        };
        let answer = harness.call(function, &args.to_string());
        check_answer(function, &answer);
    }
    let base = base();
    assert_eq!(std::fs::read(base.join("outside/secret")).unwrap(), SECRET);
    assert_eq!(std::fs::read_dir(base.join("outside")).unwrap().count(), 1);
    assert_eq!(std::fs::read(base.join("mount/keep/private/key")).unwrap(), PRIVATE);
    assert_eq!(std::fs::read_dir(base.join("mount/keep/private")).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(base).unwrap().count(), 2);
});
