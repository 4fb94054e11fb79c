//! Programs through the public API: `Runtime::exec` and `Runtime::run`, as
//! a Node.js user expects them to behave.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use polybox::program::{EXIT_KILLED, EXIT_TIMEOUT};
use polybox::{CallLimits, ErrorCode, ExecOptions, ExecOutput, ProgramKind, Runtime};
use polybox_tests::{expect_code, kill_after, repl_line};

fn runtime() -> Runtime {
    Runtime::builder().build().unwrap()
}

fn exec(code: &str) -> ExecOutput {
    runtime().exec(code, ExecOptions::default()).unwrap()
}

fn exec_with(code: &str, options: ExecOptions) -> ExecOutput {
    runtime().exec(code, options).unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// Asserts a program's stdout, stderr and exit code.
#[track_caller]
fn assert_output(output: &ExecOutput, stdout: &str, stderr: &str, exit_code: i32) {
    assert_eq!(
        (text(&output.stdout), text(&output.stderr), output.exit_code),
        (stdout, stderr, exit_code)
    );
}

fn limited(wall: Duration) -> ExecOptions {
    ExecOptions {
        limits: CallLimits {
            wall_clock: Some(wall),
            ..Default::default()
        },
        ..Default::default()
    }
}

// ---- stdio ------------------------------------------------------------------

#[test]
fn console_writes_stdout_and_stderr_and_exit_sets_the_code() {
    let output = exec("console.log('hi'); console.error('oops'); process.exit(3)");
    assert_output(&output, "hi\n", "oops\n", 3);
    assert!(output.error.is_none());
}

#[test]
fn each_console_method_goes_to_its_stream() {
    let output = exec(
        "console.log('l'); console.info('i'); console.debug('d');
         console.error('e'); console.warn('w');",
    );
    assert_output(&output, "l\ni\nd\n", "e\nw\n", 0);
    let grouped =
        exec("console.group('g'); console.log('a\\nb'); console.groupEnd(); console.log('c')");
    assert_output(&grouped, "g\n  a\n  b\nc\n", "", 0);
    let trace = exec("console.trace('here')");
    assert!(
        text(&trace.stderr).starts_with("Trace: here\n"),
        "{trace:?}"
    );
}

#[test]
fn console_formats_values_as_node_does() {
    let output = exec(
        r#"console.log({ a: 1, b: [1, 2, { c: 3 }], s: 'x' });
           console.log([1, 'two', null, undefined], new Map([[1, 2]]), new Set(['a']));
           console.log('%s is %d years and %j', 'Bob', 42, { x: 1 });
           console.log('%o and %%', [1]);
           console.log(1.5, -0, 10n, true, Symbol('s'), function named() {}, class K {});
           console.log(new Error('bad').message, 'nested:', { deep: { deeper: { deepest: {} } } });
           const circular = { name: 'c' }; circular.self = circular; console.log(circular);
           console.log(new Uint8Array([1, 2]));"#,
    );
    assert_output(
        &output,
        "{ a: 1, b: [ 1, 2, { c: 3 } ], s: 'x' }\n\
         [ 1, 'two', null, undefined ] Map(1) { 1 => 2 } Set(1) { 'a' }\n\
         Bob is 42 years and {\"x\":1}\n\
         [ 1, [length]: 1 ] and %\n\
         1.5 -0 10n true Symbol(s) [Function: named] [class K]\n\
         bad nested: { deep: { deeper: { deepest: {} } } }\n\
         <ref *1> { name: 'c', self: [Circular *1] }\n\
         Uint8Array(2) [ 1, 2 ]\n",
        "",
        0,
    );
}

#[test]
fn process_stdout_and_stderr_take_strings_and_bytes() {
    let output = exec(
        "process.stdout.write('a'); process.stdout.write(new Uint8Array([98, 10]));
         process.stderr.write(Buffer.from('c'));",
    );
    assert_output(&output, "ab\n", "c", 0);
}

#[test]
fn stdin_is_read_by_async_iteration() {
    let options = ExecOptions {
        stdin: b"abc\n".to_vec(),
        ..Default::default()
    };
    let output = exec_with(
        "let s = ''; for await (const c of process.stdin) s += c; console.log(s.trim().toUpperCase())",
        options,
    );
    assert_output(&output, "ABC\n", "", 0);
}

#[test]
fn stdin_emits_data_then_end() {
    let options = ExecOptions {
        stdin: b"one two".to_vec(),
        ..Default::default()
    };
    let output = exec_with(
        "const chunks = []; process.stdin.setEncoding('utf8');
         process.stdin.on('data', (c) => chunks.push(c));
         process.stdin.on('end', () => console.log(chunks.join('|'), typeof chunks[0]));",
        options,
    );
    assert_output(&output, "one two string\n", "", 0);
}

#[test]
fn empty_stdin_ends_at_once() {
    let output = exec("let n = 0; for await (const c of process.stdin) n++; console.log(n)");
    assert_output(&output, "0\n", "", 0);
}

#[test]
fn output_callbacks_hear_chunks_while_the_program_runs() {
    // The callback stops the program: had the chunk arrived only at the
    // end, the program would spin until its wall-clock limit.
    let mut runtime = runtime();
    let handle = runtime.interrupt_handle();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    let options = ExecOptions {
        on_stdout: Some(Box::new(move |chunk| {
            sink.lock().unwrap().extend_from_slice(chunk);
            handle.kill();
        })),
        ..limited(Duration::from_secs(60))
    };
    let output = runtime
        .exec("console.log('ready'); for (;;) {}", options)
        .unwrap();
    assert_eq!(output.exit_code, EXIT_KILLED);
    assert_eq!(output.stats.terminated_by, Some("killed"));
    assert_eq!(*heard.lock().unwrap(), b"ready\n");
    assert_eq!(output.stdout, b"ready\n");
}

#[test]
fn output_past_the_limit_is_truncated_and_says_so() {
    let options = ExecOptions {
        output_limit: Some(10),
        ..Default::default()
    };
    let output = exec_with(
        "console.log('0123456789abcdef'); console.error('short')",
        options,
    );
    assert_eq!(output.stdout, b"0123456789");
    assert!(output.stdout_truncated);
    assert_eq!(output.stderr, b"short\n");
    assert!(!output.stderr_truncated);
    assert_eq!(output.exit_code, 0);
}

#[test]
fn a_huge_write_reaches_the_host_whole() {
    let heard = Arc::new(Mutex::new(0usize));
    let sink = heard.clone();
    let options = ExecOptions {
        on_stdout: Some(Box::new(move |chunk| *sink.lock().unwrap() += chunk.len())),
        ..Default::default()
    };
    let output = exec_with(
        "process.stdout.write('x'.repeat(20 * 1024 * 1024))",
        options,
    );
    assert_eq!(output.exit_code, 0);
    assert_eq!(*heard.lock().unwrap(), 20 * 1024 * 1024);
    assert_eq!(output.stdout.len(), 1024 * 1024);
    assert!(output.stdout_truncated);
}

// ---- process ------------------------------------------------------------------

#[test]
fn process_describes_the_program() {
    let mut runtime = Runtime::builder()
        .env("GRANTED", "yes")
        .arg("first")
        .cwd("/work")
        .build()
        .unwrap();
    let options = ExecOptions {
        env: vec![("EXTRA".into(), "1".into())],
        filename: Some("/work/main.js".into()),
        ..Default::default()
    };
    let output = runtime
        .exec(
            "console.log(JSON.stringify(process.argv), JSON.stringify(process.env));
             console.log(process.cwd(), process.platform, typeof process.version, __filename, __dirname);
             console.log(typeof process.hrtime.bigint(), process.hrtime().length, typeof process.uptime());",
            options,
        )
        .unwrap();
    assert_output(
        &output,
        "[\"polybox\",\"/work/main.js\",\"first\"] {\"GRANTED\":\"yes\",\"EXTRA\":\"1\"}\n\
         /work linux string /work/main.js /work\n\
         bigint 2 number\n",
        "",
        0,
    );
}

#[test]
fn nothing_of_the_hosts_environment_reaches_a_program() {
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("POLYBOX_TEST_SECRET", "leaked") };
    let output =
        exec("console.log(Object.keys(process.env).length, process.env.POLYBOX_TEST_SECRET)");
    assert_output(&output, "0 undefined\n", "", 0);
}

#[test]
fn exit_code_and_exit_listeners() {
    let output =
        exec("process.on('exit', (code) => console.log('exit', code)); process.exitCode = 4");
    assert_output(&output, "exit 4\n", "", 4);
}

#[test]
fn process_exit_ends_the_program_at_once() {
    let output = exec(
        "setTimeout(() => console.log('never'), 0);
         function deep(n) { if (n === 0) process.exit(7); deep(n - 1); console.log('never'); }
         try { deep(20); } catch (e) { console.log('caught', e); } finally { console.log('finally'); }
         console.log('after');",
    );
    assert_output(&output, "", "", 7);
}

#[test]
fn process_exit_in_a_finally_block_wins() {
    let output = exec("try { throw new Error('x'); } finally { process.exit(2); }");
    assert_output(&output, "", "", 2);
}

#[test]
fn process_exit_stops_a_loop_that_catches_it() {
    let output = exec("for (;;) { try { process.exit(9); } catch {} }");
    assert_output(&output, "", "", 9);
}

#[test]
fn process_exit_from_a_timer_drops_the_rest() {
    let output = exec(
        "setTimeout(() => { console.log('first'); process.exit(0); }, 1);
         setTimeout(() => console.log('never'), 5);",
    );
    assert_output(&output, "first\n", "", 0);
}

#[test]
fn next_tick_runs_before_promises_and_immediates_after() {
    let output = exec(
        "setImmediate(() => console.log('immediate'));
         Promise.resolve().then(() => console.log('promise'));
         process.nextTick(() => console.log('tick'));
         console.log('sync');",
    );
    assert_output(&output, "sync\ntick\npromise\nimmediate\n", "", 0);
}

// ---- failures -------------------------------------------------------------------

#[test]
fn an_uncaught_exception_is_reported_and_exits_1() {
    let output = exec("\nconst x = 1;\n  null.foo");
    assert_eq!(output.exit_code, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("TypeError: cannot read property 'foo' of null\n"),
        "{stderr}"
    );
    // Lines and columns are the file's, not the CommonJS wrapper's.
    assert!(stderr.contains("[eval]:3:3"), "{stderr}");
}

#[test]
fn an_unhandled_rejection_is_reported_and_exits_1() {
    let output =
        exec("Promise.reject(new Error('rejected')); setTimeout(() => console.log('never'), 50)");
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).starts_with("Error: rejected\n"),
        "{output:?}"
    );
    assert_eq!(output.stdout, b"");
}

#[test]
fn a_rejection_handled_later_in_the_same_turn_is_not_reported() {
    let output = exec(
        "const p = Promise.reject(new Error('late')); queueMicrotask(() => p.catch(() => console.log('handled')));",
    );
    assert_output(&output, "handled\n", "", 0);
}

#[test]
fn an_uncaught_exception_listener_keeps_the_program_alive() {
    let output = exec(
        "process.on('uncaughtException', (e) => console.log('handled', e.message));
         setTimeout(() => { throw new Error('in a timer'); }, 1);
         setTimeout(() => console.log('still running'), 5);",
    );
    assert_output(&output, "handled in a timer\nstill running\n", "", 0);
}

#[test]
fn a_syntax_error_exits_1_with_the_message() {
    let output = exec("let x = ;");
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).starts_with("SyntaxError: "),
        "{output:?}"
    );
}

#[test]
fn thrown_non_errors_are_reported_too() {
    let output = exec("throw { code: 42 }");
    assert_output(&output, "", "Uncaught { code: 42 }\n", 1);
}

#[test]
fn a_top_level_await_that_can_never_settle_exits_13() {
    let output = exec("await new Promise(() => {}); console.log('never')");
    assert_eq!(output.exit_code, 13);
    assert!(
        text(&output.stderr).contains("unsettled top-level await"),
        "{output:?}"
    );
}

#[test]
fn a_bad_exit_code_is_a_type_error() {
    for code in ["'abc'", "1.5", "{}"] {
        let output = exec(&format!("process.exit({code})"));
        assert_eq!(output.exit_code, 1, "{code}");
        assert!(
            text(&output.stderr).starts_with("TypeError: The \"code\" argument must be an integer"),
            "{code}: {output:?}"
        );
    }
    assert_eq!(exec("process.exit('5')").exit_code, 5);
}

#[test]
fn running_out_of_memory_is_reported() {
    let output = exec("const keep = []; for (;;) keep.push({ n: keep.length });");
    assert_output(&output, "", "InternalError: out of memory\n", 1);
}

#[test]
fn a_timer_storm_ends_in_a_defined_way() {
    let output =
        exec("for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 0); console.log('scheduled')");
    assert_eq!((output.stdout.as_slice(), output.exit_code), (&b""[..], 1));
    assert!(
        text(&output.stderr).starts_with("InternalError: out of memory\n"),
        "{output:?}"
    );
    let output = exec(
        "let n = 0; for (let i = 0; i < 1e5; i++) setTimeout(() => n++, 0); setTimeout(() => console.log(n), 1)",
    );
    assert_output(&output, "100000\n", "", 0);
}

// ---- timers -------------------------------------------------------------------

#[test]
fn timers_run_in_order_of_their_time() {
    let output = exec(
        "setTimeout(() => console.log('b'), 20); setTimeout(() => console.log('a'), 5);
         let n = 0; const i = setInterval(() => { if (++n === 3) { clearInterval(i); console.log('interval', n); } }, 2);
         const cleared = setTimeout(() => console.log('cleared'), 1); clearTimeout(cleared);
         const byId = setTimeout(() => console.log('by id'), 1); clearTimeout(+byId);
         setTimeout((x, y) => console.log('args', x, y), 1, 1, 2);",
    );
    assert_output(&output, "args 1 2\na\ninterval 3\nb\n", "", 0);
}

#[test]
fn an_unref_timer_does_not_keep_the_program_alive() {
    let output = exec("setTimeout(() => console.log('never'), 10000).unref(); console.log('done')");
    assert_output(&output, "done\n", "", 0);
}

#[test]
fn timers_promises_wait_and_abort() {
    let output = exec(
        "import { setTimeout as sleep, setImmediate } from 'node:timers/promises';
         console.log(await sleep(5, 'value'), await setImmediate('now'));
         const controller = { aborted: false, listeners: [], addEventListener(_, f) { this.listeners.push(f); }, removeEventListener() {} };
         const pending = sleep(10000, 'late', { signal: controller }).catch((e) => console.log(e.name));
         controller.aborted = true; controller.listeners.forEach((f) => f());
         await pending;",
    );
    assert_output(&output, "value now\nAbortError\n", "", 0);
}

#[test]
fn a_sleeping_program_is_stopped_by_its_wall_clock_limit() {
    let output = exec_with(
        "console.log('start'); setTimeout(() => console.log('never'), 10000)",
        limited(Duration::from_millis(100)),
    );
    assert_eq!(output.exit_code, EXIT_TIMEOUT);
    assert_eq!(output.stats.terminated_by, Some("wall-clock"));
    assert_eq!(output.stdout, b"start\n");
    assert_eq!(output.error.map(|e| e.code()), Some(ErrorCode::Cancelled));
}

#[test]
fn a_kill_stops_a_sleeping_program() {
    let mut runtime = runtime();
    let killer = kill_after(runtime.interrupt_handle(), Duration::from_millis(50));
    let output = runtime
        .exec(
            "await new Promise((r) => setTimeout(r, 60000))",
            ExecOptions::default(),
        )
        .unwrap();
    drop(killer);
    assert_eq!(output.exit_code, EXIT_KILLED);
    assert_eq!(output.stats.terminated_by, Some("killed"));
}

#[test]
fn a_program_is_stopped_by_its_fuel_budget() {
    let mut runtime = Runtime::builder()
        .sandbox(polybox::SandboxBuilder::new().fuel_metering(true))
        .build()
        .unwrap();
    let options = ExecOptions {
        limits: CallLimits {
            fuel: Some(5_000_000),
            ..Default::default()
        },
        ..Default::default()
    };
    let output = runtime
        .exec("console.log('burn'); for (;;) {}", options)
        .unwrap();
    assert_eq!(output.exit_code, EXIT_TIMEOUT);
    assert_eq!(output.stats.terminated_by, Some("fuel"));
    assert!(output.stats.fuel_consumed.unwrap() >= 5_000_000);
    assert_eq!(output.stdout, b"burn\n");
}

#[test]
fn a_spinning_program_is_stopped_by_its_cpu_limit() {
    let options = ExecOptions {
        limits: CallLimits {
            cpu_time: Some(Duration::from_millis(50)),
            ..Default::default()
        },
        ..Default::default()
    };
    let output = exec_with("console.log('spin'); for (;;) {}", options);
    assert_eq!(output.exit_code, EXIT_TIMEOUT);
    assert_eq!(output.stats.terminated_by, Some("cpu-time"));
    assert_eq!(output.stdout, b"spin\n");
}

// ---- modules and CommonJS ----------------------------------------------------

#[test]
fn commonjs_has_require_module_and_file_names() {
    let options = ExecOptions {
        filename: Some("/app/lib/tool.js".into()),
        kind: ProgramKind::CommonJs,
        ..Default::default()
    };
    let output = exec_with(
        "const process2 = require('process'); const timers = require('node:timers');
         module.exports = { ok: true }; exports.unused = 1;
         console.log(process2 === process, typeof timers.setTimeout, __filename, __dirname, typeof module.exports);
         return; console.log('a top-level return ends a CommonJS script')",
        options,
    );
    assert_output(
        &output,
        "true function /app/lib/tool.js /app/lib object\n",
        "",
        0,
    );
}

#[test]
fn es_modules_import_core_modules_by_either_name() {
    let output = exec(
        "import process2, { argv } from 'node:process'; import { setTimeout as st } from 'timers';
         console.log(process2 === process, Array.isArray(argv), typeof st);",
    );
    assert_output(&output, "true true function\n", "", 0);
}

#[test]
fn the_syntax_decides_what_says_neither() {
    assert_output(&exec("console.log(typeof require)"), "function\n", "", 0);
    assert_output(
        &exec("export {}; console.log(typeof require)"),
        "undefined\n",
        "",
        0,
    );
    assert_output(&exec("await 0; console.log('awaited')"), "awaited\n", "", 0);
}

#[test]
fn a_module_given_as_commonjs_fails_to_parse() {
    let options = ExecOptions {
        kind: ProgramKind::CommonJs,
        ..Default::default()
    };
    let output = exec_with("export default 1", options);
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).starts_with("SyntaxError"),
        "{output:?}"
    );
}

#[test]
fn a_withheld_core_module_fails_with_its_name() {
    let output = exec("require('child_process')");
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).starts_with(
            "Error: Cannot find module 'child_process': Polybox does not provide the Node.js module 'node:child_process'"
        ),
        "{output:?}"
    );
    let output = exec("import { Worker } from 'node:worker_threads'");
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr)
            .contains("Polybox does not provide the Node.js module 'node:worker_threads'"),
        "{output:?}"
    );
    let output = exec("try { require('net') } catch (e) { console.log(e.code) }");
    assert_output(&output, "MODULE_NOT_FOUND\n", "", 0);
    let output = exec("import('left-pad').catch((e) => console.log(e.code, e.message))");
    assert_output(
        &output,
        "ERR_MODULE_NOT_FOUND Cannot find package 'left-pad' imported from /[eval]\n",
        "",
        0,
    );
}

#[test]
fn buffer_events_and_string_decoder_are_nodes() {
    let output = exec(
        "import { Buffer } from 'buffer'; import { EventEmitter, once } from 'events';
         import { StringDecoder } from 'node:string_decoder';
         const b = Buffer.from('héllo');
         console.log(b.length, b.toString('base64'), b.toString('hex'), Buffer.concat([b, Buffer.from([33])]).toString());
         console.log(Buffer.alloc(3).fill(7), b.readUInt8(0), Buffer.byteLength('é'), Buffer.isBuffer(b), b.equals(Buffer.from('héllo')));
         const e = new EventEmitter(); e.once('x', (v) => console.log('once', v)); e.emit('x', 1); e.emit('x', 2);
         console.log(e.listenerCount('x'), process instanceof EventEmitter);
         const d = new StringDecoder('utf8'); console.log(d.write(Buffer.from([0xe2, 0x82])) + d.end(Buffer.from([0xac])));
         setTimeout(() => e.emit('later', 'done'), 1); console.log(await once(e, 'later'));",
    );
    assert_output(
        &output,
        "6 aMOpbGxv 68c3a96c6c6f héllo!\n\
         <Buffer 07 07 07> 104 2 true true\n\
         once 1\n\
         0 true\n\
         €\n\
         [ 'done' ]\n",
        "",
        0,
    );
}

#[test]
fn util_path_url_querystring_os_and_assert_are_nodes() {
    let output = exec(
        "import util from 'node:util'; import path from 'path'; import url, { URL } from 'node:url';
         import qs from 'querystring'; import os from 'node:os'; import assert from 'node:assert';
         import { deepStrictEqual } from 'assert/strict'; import { isDate } from 'util/types';
         console.log(util.format('%s=%d %j', 'x', 5, { a: 1 }), util.inspect({ a: { b: { c: { d: 1 } } } }), isDate(new Date()));
         const sleep = util.promisify(setTimeout); console.log(await sleep(1, 'slept'));
         console.log(path.join('/a', 'b', '../c'), path.basename('/x/y.js', '.js'), path.resolve('rel'), path.sep);
         const u = new URL('https://user@example.com:8080/p?q=1#h'); u.searchParams.append('r', '2');
         console.log(u.host, u.href, url.fileURLToPath('file:///tmp/a%20b'), url.pathToFileURL('/x y').href, url.parse('http://a.com/b?c=d').query);
         console.log(qs.stringify({ a: 1, b: ['x', 'y'] }), qs.parse('a=1&a=2').a, os.platform(), os.EOL === '\\n');
         try { deepStrictEqual({ a: 1 }, { a: 2 }); } catch (e) { console.log(e.name, e.code); }
         assert.ok(true); console.log(typeof assert.throws);",
    );
    assert_output(
        &output,
        "x=5 {\"a\":1} { a: { b: { c: [Object] } } } true\n\
         slept\n\
         /a/c y /rel /\n\
         example.com:8080 https://user@example.com:8080/p?q=1&r=2#h /tmp/a b file:///x%20y c=d\n\
         a=1&b=x&b=y [ '1', '2' ] linux true\n\
         AssertionError ERR_ASSERTION\n\
         function\n",
        "",
        0,
    );
}

#[test]
fn crypto_is_a_core_module_with_node_and_web_additions() {
    let output = exec(
        "import crypto from 'node:crypto';
         console.log(crypto.createHash('sha256').update('abc').digest('hex').slice(0, 16));
         const n = crypto.randomInt(5, 10); console.log(n >= 5 && n < 10, crypto.timingSafeEqual(Buffer.from('ab'), Buffer.from('ab')));
         try { crypto.timingSafeEqual(Buffer.from('a'), Buffer.from('ab')); } catch (e) { console.log(e.code); }
         console.log(crypto.getRandomValues(new Uint8Array(4)).length, crypto.webcrypto.getRandomValues(new Uint32Array(2)).length);
         const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'));
         console.log(Buffer.from(digest).toString('hex').slice(0, 16));
         await crypto.subtle.digest('MD5', new Uint8Array(1)).catch((e) => console.log(e.name));",
    );
    assert_output(
        &output,
        "ba7816bf8f01cfea
true true
ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH
4 2
ba7816bf8f01cfea
NotSupportedError
",
        "",
        0,
    );
}

#[test]
fn programs_get_node_s_web_globals() {
    let commonjs = exec(
        "const { timingSafeEqual } = require('crypto'); const { Buffer } = require('buffer'); console.log(timingSafeEqual(Buffer.from('a'), Buffer.from('a')))",
    );
    assert_output(&commonjs, "true\n", "", 0);
    let output = exec(
        "const p = new URLSearchParams('a=1&b=2'); p.set('c', '3');
         const copy = structuredClone({ m: new Map([[1, new Date(0)]]), s: new Set(['x']) });
         console.log(p.toString(), new URL('../x', 'https://h.test/a/b').href, copy.m.get(1).toISOString(), copy.s.has('x'));",
    );
    assert_output(
        &output,
        "a=1&b=2&c=3 https://h.test/x 1970-01-01T00:00:00.000Z true
",
        "",
        0,
    );
}

// ---- values -------------------------------------------------------------------

#[test]
fn run_returns_the_default_export_or_what_return_was_given() {
    let mut runtime = runtime();
    let run = runtime
        .run("export default { sum: 1 + 2 }", ExecOptions::default())
        .unwrap();
    assert_eq!(run.value.as_deref(), Some(r#"{"sum":3}"#));
    let run = runtime
        .run(
            "__return([1, 'two']); console.log('still runs')",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(run.value.as_deref(), Some(r#"[1,"two"]"#));
    assert_eq!(run.output.stdout, b"still runs\n");
    let run = runtime.run("const x = 1", ExecOptions::default()).unwrap();
    assert_eq!(run.value, None);
    let run = runtime
        .run(
            "export default await Promise.resolve(5)",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(run.value.as_deref(), Some("5"));
}

// ---- fresh processes ----------------------------------------------------------

#[test]
fn every_program_starts_from_a_clean_state() {
    let mut runtime = runtime();
    let first = runtime
        .exec(
            "globalThis.leak = 1; Array.prototype.evil = 1; process.env.X = '1'; console.log('set')",
            ExecOptions::default(),
        )
        .unwrap();
    assert_output(&first, "set\n", "", 0);
    let second = runtime
        .exec(
            "console.log(typeof leak, [].evil, process.env.X)",
            ExecOptions::default(),
        )
        .unwrap();
    assert_output(&second, "undefined undefined undefined\n", "", 0);
}

#[test]
fn a_runtime_keeps_working_after_a_program_is_stopped() {
    let mut runtime = runtime();
    let stopped = runtime
        .exec("for (;;) {}", limited(Duration::from_millis(20)))
        .unwrap();
    assert_eq!(stopped.exit_code, EXIT_TIMEOUT);
    let after = runtime
        .exec("console.log('fine')", ExecOptions::default())
        .unwrap();
    assert_output(&after, "fine\n", "", 0);
}

#[test]
fn a_program_that_overflows_the_stack_crashes_cleanly() {
    let mut runtime = runtime();
    let output = runtime
        .exec(
            "function f() { return f() + 1 } f()",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(output.exit_code, 1);
    assert!(
        text(&output.stderr).starts_with("RangeError: Maximum call stack size exceeded"),
        "{output:?}"
    );
    let after = runtime
        .exec("console.log('fine')", ExecOptions::default())
        .unwrap();
    assert_output(&after, "fine\n", "", 0);
}

// ---- bad input ------------------------------------------------------------------

#[test]
fn bad_options_are_refused_before_anything_runs() {
    let mut runtime = Runtime::builder()
        .sandbox(polybox::SandboxBuilder::new().input_buffer_size(1024))
        .build()
        .unwrap();
    let big = ExecOptions {
        stdin: vec![b'x'; 2048],
        ..Default::default()
    };
    expect_code(runtime.exec("1", big), ErrorCode::InvalidArg);
    expect_code(
        runtime.exec(&"1;".repeat(1024), ExecOptions::default()),
        ErrorCode::InvalidArg,
    );
    for name in ["", "A=B", "NUL\0"] {
        let options = ExecOptions {
            env: vec![(name.into(), "v".into())],
            ..Default::default()
        };
        expect_code(runtime.exec("1", options), ErrorCode::InvalidArg);
    }
    let relative = ExecOptions {
        cwd: Some("relative".into()),
        ..Default::default()
    };
    expect_code(runtime.exec("1", relative), ErrorCode::InvalidArg);
    expect_code(
        runtime.exec("1", limited(Duration::ZERO)),
        ErrorCode::InvalidArg,
    );
    expect_code(
        Runtime::builder().env("A=B", "x").build(),
        ErrorCode::InvalidArg,
    );
    expect_code(Runtime::builder().cwd("x").build(), ErrorCode::InvalidArg);
    // The runtime is untouched.
    let output = runtime
        .exec("console.log('ok')", ExecOptions::default())
        .unwrap();
    assert_output(&output, "ok\n", "", 0);
}

#[test]
fn source_with_a_nul_byte_is_a_syntax_error_not_a_crash() {
    let output = exec("console.log('a')\0console.log('b')");
    assert_eq!(output.exit_code, 1, "{output:?}");
}

#[test]
fn the_env_scope_hides_variables_the_caller_set() {
    let policy = polybox::permissions::Permissions::from_json(
        r#"{"env":{"default":"allow","rules":[{"mode":"deny","patterns":["SECRET_*"]}]}}"#,
    )
    .unwrap();
    let mut runtime = Runtime::builder()
        .sandbox(polybox::SandboxBuilder::new().permissions(policy))
        .env("MODE", "test")
        .env("SECRET_TOKEN", "t0p")
        .build()
        .unwrap();
    let output = runtime
        .exec(
            "console.log(JSON.stringify(process.env))",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(text(&output.stdout), "{\"MODE\":\"test\"}\n");
    let mut denied = Runtime::builder()
        .sandbox(polybox::SandboxBuilder::new().permissions(
            polybox::permissions::Permissions::from_json(r#"{"env":"deny"}"#).unwrap(),
        ))
        .env("MODE", "test")
        .build()
        .unwrap();
    let output = denied
        .exec(
            "console.log(JSON.stringify(process.env))",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(text(&output.stdout), "{}\n");
}

#[test]
fn global_scripts_continuing_a_process_keep_their_declarations_as_a_repl_does() {
    let mut runtime = runtime();
    let first = repl_line(
        &mut runtime,
        "const data = [1, 2, 3]; let total = 0; var seen = 'yes'; function double(x) { return 2 * x }
         class Box { constructor(v) { this.v = v } }
         await new Promise((resolve) => setTimeout(resolve, 1));
         total = data.map(double).reduce((a, b) => a + b); total",
    );
    assert_eq!(first.value.as_deref(), Some("12"), "{:?}", first.output);
    let second = repl_line(
        &mut runtime,
        "console.log(seen, new Box(total).v); total + data.length",
    );
    assert_eq!(second.value.as_deref(), Some("15"));
    assert_eq!(text(&second.output.stdout), "yes 12\n");
    // A continued process runs its timers, and starts with no exit code.
    let timed = repl_line(
        &mut runtime,
        "process.exitCode = 3; await new Promise((resolve) => setTimeout(resolve, 1)); 'waited'",
    );
    assert_eq!(
        timed.value.as_deref(),
        Some("\"waited\""),
        "{:?}",
        timed.output
    );
    assert_eq!(timed.output.exit_code, 3);
    let after = repl_line(
        &mut runtime,
        "await new Promise((r) => setTimeout(r, 1)); 1",
    );
    assert_eq!(
        (after.value.as_deref(), after.output.exit_code),
        (Some("1"), 0)
    );
    // Redeclaring is an error, as in Node's REPL; the process lives on.
    let again = repl_line(&mut runtime, "let total = 1");
    assert_eq!(again.output.exit_code, 1);
    assert!(
        text(&again.output.stderr).contains("total"),
        "{:?}",
        again.output
    );
    assert_eq!(
        repl_line(&mut runtime, "total").value.as_deref(),
        Some("12")
    );
    // A stopped run leaves no process: the next starts afresh.
    let stopped = repl_line(&mut runtime, "for (;;) {}");
    assert_eq!(stopped.output.exit_code, EXIT_TIMEOUT);
    let fresh = repl_line(&mut runtime, "typeof total");
    assert_eq!(fresh.value.as_deref(), Some("\"undefined\""));
    // Without continue_process, every run is a fresh process.
    let options = ExecOptions {
        kind: ProgramKind::Script,
        ..Default::default()
    };
    runtime.run("var kept = 1", options).unwrap();
    let options = ExecOptions {
        kind: ProgramKind::Script,
        ..Default::default()
    };
    let run = runtime.run("typeof kept", options).unwrap();
    assert_eq!(run.value.as_deref(), Some("\"undefined\""));
}
