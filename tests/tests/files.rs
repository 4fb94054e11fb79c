//! The filesystem capability through the public API: `node:fs` in programs
//! over seeded files, `/tmp` and mounts, every access decided by the
//! sandbox's permissions on the host.

use std::path::PathBuf;

use polybox::permissions::{Mode, Permissions, Rule, Scope};
use polybox::{ExecOptions, ExecOutput, Mount, Runtime, SandboxBuilder};

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

fn exec_in(sandbox: SandboxBuilder, code: &str) -> ExecOutput {
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    runtime.exec(code, ExecOptions::default()).unwrap()
}

/// Runs `code`; asserts it exits 0 and returns its stdout.
#[track_caller]
fn ok(sandbox: SandboxBuilder, code: &str) -> String {
    let output = exec_in(sandbox, code);
    assert_eq!(output.exit_code, 0, "stderr: {}", text(&output.stderr));
    text(&output.stdout).to_owned()
}

/// A fresh host directory for one test.
fn host_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polybox-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn nothing_is_readable_without_a_grant() {
    let out = ok(
        SandboxBuilder::new(),
        "const fs = require('fs');
         for (const p of ['/etc/passwd', '/proc/self/environ', '/dev/null', '/home']) {
           try { fs.readFileSync(p); console.log(p, 'read'); }
           catch (e) { console.log(p, e.code); }
         }",
    );
    assert_eq!(
        out,
        "/etc/passwd EACCES\n/proc/self/environ EACCES\n/dev/null EACCES\n/home EACCES\n"
    );
}

#[test]
fn seeded_files_and_tmp_are_readable_and_writable() {
    let out = ok(
        SandboxBuilder::new().file("/data/config.json", r#"{"ok":true}"#),
        "const fs = require('node:fs');
         console.log(JSON.parse(fs.readFileSync('/data/config.json', 'utf8')).ok);
         fs.writeFileSync('/tmp/a.txt', 'one');
         fs.appendFileSync('/tmp/a.txt', Buffer.from(' two'));
         console.log(fs.readFileSync('/tmp/a.txt', 'utf8'));
         fs.mkdirSync('/tmp/x/y', { recursive: true });
         fs.writeFileSync('/tmp/x/y/z', 'z');
         console.log(fs.readdirSync('/tmp', { withFileTypes: true }).map(d => d.name + (d.isDirectory() ? '/' : '')).join(' '));
         console.log(fs.statSync('/tmp/a.txt').size, fs.statSync('/tmp/x').isDirectory());
         fs.renameSync('/tmp/a.txt', '/tmp/b.txt');
         console.log(fs.existsSync('/tmp/a.txt'), fs.existsSync('/tmp/b.txt'));
         fs.rmSync('/tmp/x', { recursive: true });
         console.log(fs.readdirSync('/tmp').join(','));",
    );
    assert_eq!(out, "true\none two\na.txt x/\n7 true\nfalse true\nb.txt\n");
}

#[test]
fn errors_have_nodes_codes_and_messages() {
    let out = ok(
        SandboxBuilder::new(),
        "const fs = require('fs');
         const show = (f) => { try { f(); } catch (e) { console.log(e.code, e.syscall, e.errno, e.message); } };
         show(() => fs.readFileSync('/tmp/missing'));
         show(() => fs.mkdirSync('/tmp'));
         show(() => fs.readFileSync('/tmp'));
         show(() => fs.readdirSync('/tmp/missing'));
         fs.writeFileSync('/tmp/f', 'x');
         show(() => fs.readdirSync('/tmp/f'));
         show(() => fs.writeFileSync('/etc/x', 'x'));",
    );
    assert_eq!(
        out,
        "ENOENT open -2 ENOENT: no such file or directory, open '/tmp/missing'\n\
         EEXIST mkdir -17 EEXIST: file already exists, mkdir '/tmp'\n\
         EISDIR open -21 EISDIR: illegal operation on a directory, open '/tmp'\n\
         ENOENT scandir -2 ENOENT: no such file or directory, scandir '/tmp/missing'\n\
         ENOTDIR scandir -20 ENOTDIR: not a directory, scandir '/tmp/f'\n\
         EACCES open -13 EACCES: permission denied, open '/etc/x'\n"
    );
}

#[test]
fn promises_and_callbacks_settle_with_the_same_results() {
    let out = ok(
        SandboxBuilder::new(),
        "import fs from 'node:fs';
         import { readFile, writeFile } from 'node:fs/promises';
         await writeFile('/tmp/p', 'promised');
         console.log(await readFile('/tmp/p', 'utf8'));
         await new Promise((resolve) => fs.readFile('/tmp/p', 'utf8', (err, data) => { console.log(err, data); resolve(); }));
         await new Promise((resolve) => fs.readFile('/nope', (err) => { console.log(err.code); resolve(); }));
         try { await readFile('/tmp/none'); } catch (e) { console.log(e.code); }",
    );
    assert_eq!(out, "promised\nnull promised\nEACCES\nENOENT\n");
}

#[test]
fn a_read_only_mount_is_read_and_a_writable_one_written_through_to_the_host() {
    let input = host_dir("input");
    let output = host_dir("output");
    std::fs::write(input.join("data.txt"), "from the host").unwrap();
    let out = ok(
        SandboxBuilder::new()
            .mount(Mount::read_only("/input", &input))
            .mount(Mount::read_write("/output", &output)),
        "const fs = require('fs');
         const data = fs.readFileSync('/input/data.txt', 'utf8');
         try { fs.writeFileSync('/input/data.txt', 'changed'); } catch (e) { console.log(e.code); }
         try { fs.unlinkSync('/input/data.txt'); } catch (e) { console.log(e.code); }
         fs.writeFileSync('/output/result.txt', data.toUpperCase());
         console.log(fs.readdirSync('/').join(','));",
    );
    assert_eq!(out, "EACCES\nEACCES\ninput,output,tmp\n");
    assert_eq!(
        std::fs::read_to_string(input.join("data.txt")).unwrap(),
        "from the host"
    );
    assert_eq!(
        std::fs::read_to_string(output.join("result.txt")).unwrap(),
        "FROM THE HOST"
    );
}

#[test]
fn the_callers_rules_narrow_what_mounts_grant() {
    let dir = host_dir("narrow");
    std::fs::write(dir.join("public.txt"), "p").unwrap();
    std::fs::write(dir.join("secret.txt"), "s").unwrap();
    let policy = Permissions::default().with(
        polybox::permissions::ScopeName::Fs,
        Scope::Rules {
            default: Mode::Deny,
            rules: vec![Rule::paths(Mode::Deny, &["read"], &["/data/secret.txt"])],
        },
    );
    let out = ok(
        SandboxBuilder::new()
            .mount(Mount::read_write("/data", &dir))
            .permissions(policy),
        "const fs = require('fs');
         console.log(fs.readFileSync('/data/public.txt', 'utf8'));
         try { fs.readFileSync('/data/secret.txt'); } catch (e) { console.log(e.code); }
         fs.writeFileSync('/data/secret.txt', 'overwritten');",
    );
    assert_eq!(out, "p\nEACCES\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("secret.txt")).unwrap(),
        "overwritten"
    );
}

#[test]
fn fs_deny_denies_even_mounts() {
    let dir = host_dir("denied");
    std::fs::write(dir.join("f"), "x").unwrap();
    let policy =
        Permissions::default().with(polybox::permissions::ScopeName::Fs, Scope::Mode(Mode::Deny));
    let out = ok(
        SandboxBuilder::new().mount(Mount::read_only("/data", &dir)).permissions(policy),
        "const fs = require('fs');
         for (const p of ['/data/f', '/tmp']) { try { fs.statSync(p); console.log('seen'); } catch (e) { console.log(e.code); } }",
    );
    assert_eq!(out, "EACCES\nEACCES\n");
}

#[test]
fn in_memory_files_are_capped() {
    let out = ok(
        SandboxBuilder::new().fs_memory_limit(1024),
        "const fs = require('fs');
         fs.writeFileSync('/tmp/a', 'x'.repeat(1000));
         try { fs.writeFileSync('/tmp/b', 'x'.repeat(100)); } catch (e) { console.log(e.code); }
         fs.unlinkSync('/tmp/a');
         fs.writeFileSync('/tmp/b', 'x'.repeat(100));
         console.log(fs.statSync('/tmp/b').size);",
    );
    assert_eq!(out, "ENOSPC\n100\n");
}

#[test]
fn files_persist_across_programs_of_one_runtime() {
    let mut runtime = Runtime::builder().build().unwrap();
    let first = runtime
        .exec(
            "require('fs').writeFileSync('/tmp/state', 'kept')",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(first.exit_code, 0, "{}", text(&first.stderr));
    let second = runtime
        .exec(
            "console.log(require('fs').readFileSync('/tmp/state', 'utf8'))",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(text(&second.stdout), "kept\n");
}

#[test]
fn streams_read_and_write_whole_files() {
    let out = ok(
        SandboxBuilder::new(),
        "const fs = require('fs');
         const w = fs.createWriteStream('/tmp/s');
         w.write('a'); w.write('b');
         w.end('c', () => {
           let seen = '';
           fs.createReadStream('/tmp/s', 'utf8').on('data', (c) => seen += c).on('end', () => console.log(seen));
         });",
    );
    assert_eq!(out, "abc\n");
}

#[test]
fn bad_builder_paths_are_refused() {
    for builder in [
        SandboxBuilder::new().file("relative.txt", "x"),
        SandboxBuilder::new().mount(Mount::read_only("/x", "/definitely/not/here")),
        SandboxBuilder::new().mount(Mount::read_only("/", std::env::temp_dir())),
    ] {
        let error = builder.build().unwrap_err();
        assert_eq!(error.code(), polybox::ErrorCode::InvalidArg, "{error}");
    }
}
