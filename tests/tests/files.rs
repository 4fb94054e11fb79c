//! The filesystem capability through the public API: `node:fs` in programs
//! over seeded files, `/tmp` and mounts, every access decided by the
//! sandbox's permissions on the host.

use polybox::permissions::{Mode, Permissions, Rule, Scope};
use polybox::{ExecOptions, Mount, Runtime, SandboxBuilder};
use polybox_tests::host_dir;

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// Runs `code`; asserts it exits 0 and returns its stdout.
#[track_caller]
fn ok(sandbox: SandboxBuilder, code: &str) -> String {
    ok_in(
        &mut Runtime::builder().sandbox(sandbox).build().unwrap(),
        code,
    )
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
    let policy = Permissions {
        fs: Some(Scope::rules(
            Mode::Deny,
            vec![Rule::parse(Mode::Deny, &["read"], &["/data/secret.txt"]).unwrap()],
        )),
        ..Permissions::default()
    };
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
    let policy = Permissions {
        fs: Some(Scope::Mode(Mode::Deny)),
        ..Permissions::default()
    };
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
        SandboxBuilder::new().fs_memory_limit(2048),
        "const fs = require('fs');
         fs.writeFileSync('/tmp/a', 'x'.repeat(1700));
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

#[test]
fn the_host_reads_and_writes_the_runtimes_files() {
    let output = host_dir("host-access");
    let mut runtime = Runtime::builder()
        .sandbox(
            SandboxBuilder::new()
                .mount(Mount::read_write("/output", &output))
                .mount(Mount::read_only("/input", &output)),
        )
        .build()
        .unwrap();
    runtime.write_file("/work/in.txt", b"given").unwrap();
    let ran = runtime
        .exec(
            "const fs = require('fs');
             fs.writeFileSync('/tmp/out.txt', fs.readFileSync('/work/in.txt', 'utf8') + ' back');
             fs.writeFileSync('/output/o.txt', 'mounted');
             try { fs.readdirSync('/work'); fs.writeFileSync('/work/other', 'x'); } catch (e) { console.log(e.code); }",
            ExecOptions::default(),
        )
        .unwrap();
    // The file the host wrote is the program's; its directory is not.
    assert_eq!(text(&ran.stdout), "EACCES\n", "{}", text(&ran.stderr));
    assert_eq!(runtime.read_file("/tmp/out.txt").unwrap(), b"given back");
    assert_eq!(runtime.read_file("/output/o.txt").unwrap(), b"mounted");
    let missing = runtime.read_file("/tmp/none").unwrap_err();
    assert!(missing.to_string().contains("ENOENT"), "{missing}");
    let read_only = runtime.write_file("/input/x", b"x").unwrap_err();
    assert!(read_only.to_string().contains("EROFS"), "{read_only}");
    assert_eq!(
        runtime.write_file("relative", b"x").unwrap_err().code(),
        polybox::ErrorCode::InvalidArg
    );
}

#[test]
fn a_mount_under_tmp_grants_only_what_the_mount_says() {
    let dir = host_dir("under-tmp");
    std::fs::write(dir.join("f"), "host").unwrap();
    let out = ok(
        SandboxBuilder::new()
            .mount(Mount::read_only("/tmp/ro", &dir))
            .mount(Mount::modules("/tmp/code", &dir)),
        "const fs = require('fs');
         console.log(fs.readFileSync('/tmp/ro/f', 'utf8'));
         for (const f of [() => fs.writeFileSync('/tmp/ro/f', 'x'), () => fs.readFileSync('/tmp/code/f'), () => fs.rmSync('/tmp/ro/f')]) {
           try { f(); console.log('done'); } catch (e) { console.log(e.code); }
         }
         console.log(fs.statSync('/tmp/code/f').size);",
    );
    assert_eq!(out, "host\nEACCES\nEACCES\nEACCES\n4\n");
    assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "host");
}

#[test]
fn large_files_cross_in_pieces_intact() {
    let mut runtime = Runtime::builder().build().unwrap();
    let big: Vec<u8> = (0..5 * 1024 * 1024 + 17)
        .map(|i: u32| (i * 7 % 251) as u8)
        .collect();
    runtime.write_file("/tmp/from-host", &big).unwrap();
    let output = runtime
        .exec(
            "const fs = require('fs');
             const data = fs.readFileSync('/tmp/from-host');
             let ok = data.length === 5 * 1024 * 1024 + 17;
             for (let i = 0; ok && i < data.length; i += 4099) ok = data[i] === (i * 7) % 251;
             fs.writeFileSync('/tmp/copy', data);
             fs.copyFileSync('/tmp/copy', '/tmp/copy2');
             console.log(ok, fs.statSync('/tmp/copy2').size);",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(
        text(&output.stdout),
        "true 5242897\n",
        "{}",
        text(&output.stderr)
    );
    assert_eq!(runtime.read_file("/tmp/copy2").unwrap(), big);
}

#[test]
fn reset_files_forgets_what_was_written_but_not_the_seeds_or_the_mounts() {
    let output = host_dir("reset");
    let mut runtime = Runtime::builder()
        .sandbox(
            SandboxBuilder::new()
                .file("/seed.txt", "seeded")
                .mount(Mount::read_write("/output", &output)),
        )
        .build()
        .unwrap();
    runtime.write_file("/tmp/from-host", b"host").unwrap();
    let wrote = "const fs = require('fs'); fs.writeFileSync('/tmp/a', 'a'); fs.writeFileSync('/seed.txt', 'changed'); fs.mkdirSync('/tmp/d'); fs.writeFileSync('/output/kept', 'kept')";
    assert_eq!(
        runtime
            .exec(wrote, ExecOptions::default())
            .unwrap()
            .exit_code,
        0
    );
    runtime.reset_files().unwrap();
    let seen = ok_in(
        &mut runtime,
        "const fs = require('fs'); console.log(fs.readdirSync('/tmp').length, fs.readFileSync('/seed.txt', 'utf8'), fs.readFileSync('/output/kept', 'utf8'), fs.existsSync('/tmp/from-host'))",
    );
    assert_eq!(seen, "0 seeded kept false\n");
    assert!(runtime.read_file("/tmp/from-host").is_err());
}

/// Runs `code` in `runtime`; asserts it exits 0 and returns its stdout.
#[track_caller]
#[test]
fn names_and_entries_count_against_the_in_memory_cap() {
    // Counting file bytes alone let 200,000 directories with long names
    // past a full cap (71 MB of host memory, kept across calls).
    let out = ok(
        SandboxBuilder::new().fs_memory_limit(1 << 20),
        "const fs = require('fs');
         const name = 'd'.repeat(240);
         let made = 0;
         try { for (;;) { fs.mkdirSync(`/tmp/${made}${name}`); made++; } } catch (e) { console.log(e.code); }
         console.log(made > 1000 && made < 4000);",
    );
    assert_eq!(out, "ENOSPC\ntrue\n");
}

#[test]
fn appends_to_a_mounted_file_stop_at_the_file_size_cap() {
    // Each append was checked alone: 4 appends of a cap made a file of 4.
    let dir = host_dir("appends");
    let out = ok(
        SandboxBuilder::new()
            .fs_memory_limit(1000)
            .mount(Mount::read_write("/out", &dir)),
        "const fs = require('fs');
         for (let i = 0; i < 4; i++) {
           try { fs.appendFileSync('/out/log', 'x'.repeat(400)); } catch (e) { console.log(i, e.code); }
         }
         console.log(fs.statSync('/out/log').size);",
    );
    assert_eq!(out, "2 ENOSPC\n3 ENOSPC\n800\n");
    assert_eq!(std::fs::metadata(dir.join("log")).unwrap().len(), 800);
}

#[test]
fn a_dangling_link_cannot_create_a_file_where_the_policy_denies() {
    // `out/link -> private/newfile`: the link's own name was decided, and
    // writing through it created a file in the denied directory.
    let dir = host_dir("dangling");
    std::fs::create_dir_all(dir.join("private")).unwrap();
    std::os::unix::fs::symlink("private/newfile", dir.join("link")).unwrap();
    std::os::unix::fs::symlink("private/../private/deeper", dir.join("link2")).unwrap();
    let policy = Permissions::from_json(
        r#"{"fs": {"default": "allow", "rules": [{"mode": "deny", "paths": ["/out/private"]}]}}"#,
    )
    .unwrap();
    let out = ok(
        SandboxBuilder::new()
            .mount(Mount::read_write("/out", &dir))
            .permissions(policy),
        "const fs = require('fs');
         for (const p of ['/out/link', '/out/link2', '/out/private/direct']) {
           try { fs.writeFileSync(p, 'x'); console.log(p, 'written'); } catch (e) { console.log(p, e.code); }
         }
         fs.writeFileSync('/out/fine', 'ok');
         console.log(fs.readFileSync('/out/fine', 'utf8'));",
    );
    assert_eq!(
        out,
        "/out/link EACCES\n/out/link2 EACCES\n/out/private/direct EACCES\nok\n"
    );
    assert!(!dir.join("private/newfile").exists());
    assert!(!dir.join("private/deeper").exists());
}

#[test]
fn readlink_shows_guest_paths_never_the_hosts() {
    let dir = host_dir("readlink");
    std::fs::write(dir.join("target"), "t").unwrap();
    std::os::unix::fs::symlink("target", dir.join("relative")).unwrap();
    std::os::unix::fs::symlink(dir.join("target"), dir.join("absolute")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("outside")).unwrap();
    let out = ok(
        SandboxBuilder::new().mount(Mount::read_only("/data", &dir)),
        "const fs = require('fs');
         for (const p of ['/data/relative', '/data/absolute', '/data/outside']) {
           try { console.log(p, fs.readlinkSync(p)); } catch (e) { console.log(p, e.code); }
         }",
    );
    assert_eq!(
        out,
        "/data/relative target\n/data/absolute /data/target\n/data/outside EACCES\n"
    );
}

fn ok_in(runtime: &mut Runtime, code: &str) -> String {
    let output = runtime.exec(code, ExecOptions::default()).unwrap();
    assert_eq!(output.exit_code, 0, "stderr: {}", text(&output.stderr));
    text(&output.stdout).to_owned()
}
