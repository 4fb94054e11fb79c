//! Programs importing the sandbox's files: relative modules, JSON, CommonJS
//! files and packages from `node_modules`, resolved as Node.js resolves
//! them, and read only where the sandbox's permissions allow.

use std::path::{Path, PathBuf};

use polybox::{ExecOptions, ExecOutput, Mount, Runtime, SandboxBuilder};

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// A host directory holding `files` (path → content) for one test.
fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polybox-imports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, content) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    dir
}

fn exec_file(sandbox: SandboxBuilder, filename: &str, code: &str) -> ExecOutput {
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    runtime
        .exec(
            code,
            ExecOptions {
                filename: Some(filename.to_owned()),
                ..Default::default()
            },
        )
        .unwrap()
}

#[track_caller]
fn ok(output: &ExecOutput) -> &str {
    assert_eq!(output.exit_code, 0, "stderr: {}", text(&output.stderr));
    text(&output.stdout)
}

fn app(dir: &Path) -> SandboxBuilder {
    SandboxBuilder::new().mount(Mount::read_only("/app", dir))
}

#[test]
fn a_module_imports_relative_modules_and_json() {
    let dir = tree(
        "relative",
        &[
            (
                "lib/math.mjs",
                "export const add = (a, b) => a + b; export default 'math';",
            ),
            ("lib/data.json", r#"{"answer": 42}"#),
            ("lib/index.js", "module.exports = { fromIndex: true };"),
        ],
    );
    let output = exec_file(
        app(&dir),
        "/app/main.mjs",
        "import math, { add } from './lib/math.mjs';
         import data from './lib/data.json' with { type: 'json' };
         import lib from './lib/index.js';
         console.log(math, add(2, 3), data.answer, lib.fromIndex);",
    );
    assert_eq!(ok(&output), "math 5 42 true\n");
}

#[test]
fn commonjs_requires_files_directories_and_json_with_one_cache() {
    let dir = tree(
        "cjs",
        &[
            (
                "counter.js",
                "let n = 0; module.exports = { next: () => ++n, file: __filename, dir: __dirname };",
            ),
            ("pkg/package.json", r#"{"main": "main.js"}"#),
            (
                "pkg/main.js",
                "exports.name = 'pkg'; exports.counter = require('../counter');",
            ),
            ("config.json", r#"{"mode": "test"}"#),
        ],
    );
    let output = exec_file(
        app(&dir),
        "/app/main.js",
        "const counter = require('./counter');
         const pkg = require('./pkg');
         counter.next();
         console.log(pkg.name, pkg.counter.next(), counter.file, counter.dir, require('./config.json').mode);
         console.log(require.resolve('./counter'));",
    );
    assert_eq!(
        ok(&output),
        "pkg 2 /app/counter.js /app test\n/app/counter.js\n"
    );
}

#[test]
fn packages_resolve_through_node_modules_and_their_exports() {
    let dir = tree(
        "packages",
        &[
            (
                "node_modules/dual/package.json",
                r#"{"name":"dual","exports":{".":{"import":"./esm.mjs","require":"./cjs.js"},"./feature/*":"./features/*.js","./package.json":"./package.json"}}"#,
            ),
            ("node_modules/dual/esm.mjs", "export const kind = 'esm';"),
            ("node_modules/dual/cjs.js", "exports.kind = 'cjs';"),
            (
                "node_modules/dual/features/a.js",
                "module.exports = 'feature a';",
            ),
            (
                "node_modules/@scope/tool/package.json",
                r#"{"name":"@scope/tool","main":"lib/tool.js"}"#,
            ),
            (
                "node_modules/@scope/tool/lib/tool.js",
                "module.exports = function tool() { return 'tool'; };",
            ),
            (
                "node_modules/typed/package.json",
                r#"{"name":"typed","type":"module","main":"index.js"}"#,
            ),
            (
                "node_modules/typed/index.js",
                "export default function typed() { return 'typed'; }",
            ),
            (
                "src/deep/file.mjs",
                "import { kind } from 'dual'; export { kind };",
            ),
        ],
    );
    let output = exec_file(
        app(&dir),
        "/app/main.mjs",
        "import { kind } from 'dual';
         import { kind as deep } from './src/deep/file.mjs';
         import tool from '@scope/tool';
         import typed from 'typed';
         import feature from 'dual/feature/a';
         import { createRequire } from 'node:module';
         console.log(kind, deep, tool(), typed(), feature);",
    );
    // `node:module` is not provided: the import fails and says so.
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).contains("node:module"),
        "{}",
        text(&output.stderr)
    );
    let output = exec_file(
        app(&dir),
        "/app/main.mjs",
        "import { kind } from 'dual';
         import { kind as deep } from './src/deep/file.mjs';
         import tool from '@scope/tool';
         import typed from 'typed';
         import feature from 'dual/feature/a';
         console.log(kind, deep, tool(), typed(), feature);",
    );
    assert_eq!(ok(&output), "esm esm tool typed feature a\n");
    let output = exec_file(
        app(&dir),
        "/app/main.cjs",
        "console.log(require('dual').kind, require('@scope/tool')());
         try { require('dual/hidden'); } catch (e) { console.log(e.code); }
         try { require('typed'); } catch (e) { console.log(e.code); }",
    );
    assert_eq!(
        ok(&output),
        "cjs tool\nERR_PACKAGE_PATH_NOT_EXPORTED\nERR_REQUIRE_ESM\n"
    );
}

#[test]
fn a_missing_module_fails_as_node_reports_it() {
    let dir = tree("missing", &[("a.js", "")]);
    let output = exec_file(app(&dir), "/app/main.mjs", "import x from './nope.js';");
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).contains("Cannot find module './nope.js' imported from /app/main.mjs"),
        "{}",
        text(&output.stderr)
    );
    let output = exec_file(
        app(&dir),
        "/app/main.js",
        "try { require('left-pad'); } catch (e) { console.log(e.code, e.message.split('\\n')[0]); }",
    );
    assert_eq!(
        ok(&output),
        "MODULE_NOT_FOUND Cannot find module 'left-pad'\n"
    );
}

#[test]
fn a_module_mount_may_be_imported_but_not_read() {
    let dir = tree(
        "modules-only",
        &[("lib.mjs", "export const secret = 'code';")],
    );
    let output = exec_file(
        SandboxBuilder::new().mount(Mount::modules("/app", &dir)),
        "/app/main.mjs",
        "import { secret } from './lib.mjs';
         import fs from 'node:fs';
         let read;
         try { fs.readFileSync('/app/lib.mjs'); read = 'read'; } catch (e) { read = e.code; }
         console.log(secret, read);",
    );
    assert_eq!(ok(&output), "code EACCES\n");
}

#[test]
fn nothing_outside_the_grants_can_be_imported() {
    let output = exec_file(
        SandboxBuilder::new(),
        "/main.mjs",
        "for (const s of ['/etc/passwd', '../../etc/hosts', 'file:///etc/passwd']) {
           try { await import(s); console.log('imported', s); } catch (e) { console.log(e.code ?? e.message); }
         }",
    );
    assert_eq!(
        ok(&output),
        "ERR_MODULE_NOT_FOUND\nERR_MODULE_NOT_FOUND\nERR_MODULE_NOT_FOUND\n"
    );
}

/// `tests/fixtures/npm/node_modules`, which `make test` installs with
/// `npm ci` (five real packages: is-number, lodash, zod, date-fns, uuid).
fn npm_packages() -> PathBuf {
    // At run time, not `env!`: a test binary may be shared between checkouts.
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("fixtures/npm/node_modules");
    assert!(
        dir.join("zod").is_dir(),
        "{dir:?} is missing: run `make test` (or `npm ci --prefix tests/fixtures/npm`)"
    );
    dir
}

const USE_PACKAGES_ESM: &str = "
import isNumber from 'is-number';
import _ from 'lodash';
import { z } from 'zod';
import { addDays, format } from 'date-fns';
import { v4 as uuid, validate } from 'uuid';
const User = z.object({ name: z.string(), age: z.number().int() });
console.log(isNumber(42), isNumber('x'));
console.log(_.chunk([1, 2, 3, 4, 5], 2).length, _.camelCase('hello big world'));
console.log(User.safeParse({ name: 'ann', age: 3 }).success, User.safeParse({ name: 1 }).success);
console.log(format(addDays(new Date(2024, 0, 30), 3), 'yyyy-MM-dd'));
console.log(validate(uuid()));
";

#[test]
fn five_real_npm_packages_import_from_a_mounted_node_modules() {
    let sandbox = SandboxBuilder::new().mount(Mount::read_only("/node_modules", npm_packages()));
    let expected = "true false\n3 helloBigWorld\ntrue false\n2024-02-02\ntrue\n";
    let output = exec_file(sandbox.clone(), "/app/main.mjs", USE_PACKAGES_ESM);
    assert_eq!(ok(&output), expected);
    let output = exec_file(
        sandbox,
        "/app/main.js",
        "const isNumber = require('is-number');
         const _ = require('lodash');
         const { z } = require('zod');
         const { addDays, format } = require('date-fns');
         const { v4: uuid, validate } = require('uuid');
         const User = z.object({ name: z.string(), age: z.number().int() });
         console.log(isNumber(42), isNumber('x'));
         console.log(_.chunk([1, 2, 3, 4, 5], 2).length, _.camelCase('hello big world'));
         console.log(User.safeParse({ name: 'ann', age: 3 }).success, User.safeParse({ name: 1 }).success);
         console.log(format(addDays(new Date(2024, 0, 30), 3), 'yyyy-MM-dd'));
         console.log(validate(uuid()));",
    );
    assert_eq!(ok(&output), expected);
}
