//! What a script gets besides ECMAScript: console, print, crypto,
//! TextEncoder/TextDecoder, time. And nothing else from the host.

use polybox::{ErrorCode, LogLevel};
use polybox_tests::{LogCapture, call, expect_code, load_handler};
use serde_json::json;

#[test]
fn console_and_print_reach_the_log_sink_with_their_levels() {
    let capture = LogCapture::default();
    let mut sandbox = capture.builder().build().unwrap().load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "function handler() { console.log('a', 1, {b: [2]}); console.info('i'); console.warn('w'); \
             console.error(new TypeError('e')); console.debug('d'); print('p'); return null; }",
        )
        .unwrap();
    sandbox
        .get_loaded_sandbox()
        .unwrap()
        .handle_event("h", "{}", None)
        .unwrap();
    let lines = capture.lines();
    assert_eq!(lines[0], (LogLevel::Info, r#"a 1 {"b":[2]}"#.to_owned()));
    assert_eq!(lines[1], (LogLevel::Info, "i".to_owned()));
    assert_eq!(lines[2], (LogLevel::Warn, "w".to_owned()));
    assert_eq!(lines[3].0, LogLevel::Error);
    assert!(lines[3].1.starts_with("TypeError: e"), "{:?}", lines[3]);
    assert_eq!(lines[4], (LogLevel::Debug, "d".to_owned()));
    assert_eq!(lines[5], (LogLevel::Info, "p".to_owned()));
    assert_eq!(lines.len(), 6);
}

#[test]
fn crypto_hashes_match_known_vectors() {
    let mut sandbox = load_handler(
        "h",
        "import { createHash, createHmac } from 'crypto';\n\
         function handler() { return [\n\
           createHash('sha256').update('abc').digest('hex'),\n\
           createHash('sha512').update('a').update('bc').digest('hex').slice(0, 16),\n\
           createHash('sha256').update(new TextEncoder().encode('abc')).digest('base64'),\n\
           createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'),\n\
           createHmac('sha512', 'key').update('x').digest() instanceof Uint8Array,\n\
         ]; }",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "ddaf35a193617aba",
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
            true
        ])
    );
}

#[test]
fn crypto_rejects_unknown_algorithms_and_reuse() {
    let mut sandbox = load_handler(
        "h",
        "import crypto from 'crypto';\n\
         function handler() { const out = [];\n\
           try { crypto.createHash('md5'); } catch (e) { out.push(e.message); }\n\
           const h = crypto.createHash('sha256'); h.digest('hex');\n\
           try { h.digest('hex'); } catch (e) { out.push(e.message); }\n\
           return out; }",
    );
    let result = call(&mut sandbox, "h", json!({})).unwrap();
    assert!(result[0].as_str().unwrap().contains("md5"), "{result}");
    assert_eq!(result[1], json!("Digest already called"));
}

#[test]
fn crypto_gives_random_bytes_from_the_host() {
    let mut sandbox = load_handler(
        "h",
        "import { randomBytes, getRandomValues, randomUUID } from 'crypto';\n\
         function handler() { const a = randomBytes(32), b = randomBytes(32);\n\
           const u = getRandomValues(new Uint32Array(4));\n\
           let big; try { randomBytes(70000); } catch (e) { big = e.name; }\n\
           return [a.length, a.some((x, i) => x !== b[i]), u.length, /^[0-9a-f-]{36}$/.test(randomUUID()), big]; }",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([32, true, 4, true, "RangeError"])
    );
}

#[test]
fn text_encoder_and_decoder_round_trip_utf8() {
    let mut sandbox = load_handler(
        "h",
        "function handler() { const bytes = new TextEncoder().encode('héllo ✓');\n\
           let fatal; try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])); } catch (e) { fatal = e.name; }\n\
           return [Array.from(bytes), new TextDecoder().decode(bytes), new TextDecoder().decode(new Uint8Array([0xff])), fatal,\n\
                   Array.from(new TextEncoder().encode('\\ud800'))]; }",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([
            [104, 195, 169, 108, 108, 111, 32, 226, 156, 147],
            "héllo ✓",
            "\u{fffd}",
            "TypeError",
            [239, 191, 189]
        ])
    );
}

#[test]
fn date_now_reads_the_hosts_clock() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let mut sandbox = load_handler(
        "h",
        "function handler() { return [Date.now(), new Date().getTime(), performance.now() >= 0]; }",
    );
    let result = call(&mut sandbox, "h", json!({})).unwrap();
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    for i in 0..2 {
        let t = result[i].as_f64().unwrap();
        assert!(
            t >= before - 1.0 && t <= after + 1.0,
            "{t} not in [{before}, {after}]"
        );
    }
    assert_eq!(result[2], json!(true));
}

#[test]
fn the_guest_has_only_ecmascript_and_polybox_globals() {
    let mut sandbox = load_handler(
        "h",
        "function handler() { return Object.getOwnPropertyNames(globalThis).sort(); }",
    );
    let globals = call(&mut sandbox, "h", json!({})).unwrap();
    let names: Vec<&str> = globals
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for absent in [
        "process",
        "WebAssembly",
        "Deno",
        "Bun",
        "XMLHttpRequest",
        "std",
        "os",
    ] {
        assert!(
            !names.contains(&absent),
            "{absent} must not exist in the guest"
        );
    }
    for present in [
        "console",
        "print",
        "require",
        "setTimeout",
        "TextEncoder",
        "TextDecoder",
        "JSON",
        "Promise",
    ] {
        assert!(
            names.contains(&present),
            "{present} must exist in the guest"
        );
    }
}

#[test]
fn no_module_gives_access_to_the_host_system() {
    for specifier in [
        "std",
        "os",
        "fs",
        "node:fs",
        "child_process",
        "net",
        "/etc/passwd",
        "file:///etc/passwd",
        "#host-bridge",
        "#crypto",
    ] {
        let mut sandbox = load_handler(
            "h",
            &format!(
                "async function handler() {{ try {{ await import('{specifier}'); return 'imported'; }} catch (e) {{ return e.message; }} }}"
            ),
        );
        let result = call(&mut sandbox, "h", json!({})).unwrap();
        assert_ne!(
            result,
            json!("imported"),
            "{specifier} must not be importable"
        );
    }
}

#[test]
fn the_event_loop_runs_queued_microtasks_before_the_call_returns() {
    let capture = LogCapture::default();
    let mut sandbox = capture.builder().build().unwrap().load_runtime().unwrap();
    sandbox
        .add_handler("h", "function handler() { queueMicrotask(() => console.log('later')); Promise.resolve().then(() => console.log('then')); return 1; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(loaded.handle_event("h", "{}", None).unwrap(), "1");
    let lines: Vec<String> = capture.lines().into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines, ["later", "then"]);
    expect_code(
        loaded.handle_event("missing", "{}", None),
        ErrorCode::InvalidArg,
    );
}

#[test]
fn math_random_differs_between_sandboxes_started_from_the_same_image() {
    let source = "function handler() { return [Math.random(), Math.random()]; }";
    let first = call(&mut load_handler("h", source), "h", json!({})).unwrap();
    let second = call(&mut load_handler("h", source), "h", json!({})).unwrap();
    assert_ne!(first, second);
    for value in first.as_array().unwrap() {
        let x = value.as_f64().unwrap();
        assert!((0.0..1.0).contains(&x), "{x}");
    }
}

#[test]
fn handlers_written_for_hyperlight_js_find_its_globals_and_modules() {
    let capture = LogCapture::default();
    let mut sandbox = capture.builder().build().unwrap().load_runtime().unwrap();
    sandbox
        .add_module("math", "export const twice = (x) => 2 * x;", None)
        .unwrap();
    sandbox
        .add_handler(
            "h",
            "import { log } from 'console';
             import * as io from 'io';
             import requireDefault, { require as requireNamed } from 'require';
             function handler(event) {
                 log('from', 'console');
                 io.print('from io\\n');
                 io.flush();
                 const { createHash } = require('crypto');
                 return {
                     same: requireDefault === require && requireNamed === require,
                     twice: require('user:math').twice(event.n),
                     hash: createHash('sha256').update('abc').digest('hex').slice(0, 8),
                     text: String.bytesFrom('aGVsbG8gd29ybGQ', 'base64url'),
                     urlSafe: String.bytesFrom('w6nDqA==', 'base64url'),
                 };
             }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({"n": 21})).unwrap(),
        json!({"same": true, "twice": 42, "hash": "ba7816bf", "text": "hello world", "urlSafe": "éè"})
    );
    assert_eq!(
        capture.lines(),
        [
            (LogLevel::Info, "from console".to_owned()),
            (LogLevel::Info, "from io".to_owned())
        ]
    );
}

#[test]
fn require_and_bytes_from_refuse_what_they_cannot_do() {
    let mut loaded = load_handler(
        "h",
        "function handler() {
             const failures = [];
             for (const name of ['fs', 'node:fs', 'user:missing', 'host:none', '#host-bridge']) {
                 try { require(name); failures.push('reached ' + name); } catch (e) { failures.push(e.name); }
             }
             try { String.bytesFrom('aGk', 'hex'); } catch (e) { failures.push(e.message); }
             return failures;
         }",
    );
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!([
            "ReferenceError",
            "ReferenceError",
            "ReferenceError",
            "ReferenceError",
            "ReferenceError",
            "Unsupported encoding, only 'base64url' is supported"
        ])
    );
}

#[test]
fn every_guest_has_the_web_globals() {
    let mut loaded = load_handler(
        "h",
        "async function handler() {
             const url = new URL('/a?b=1', 'https://h.test'); url.searchParams.append('c', '2');
             const target = new EventTarget(); let heard = 0;
             target.addEventListener('ping', (e) => { heard += e instanceof Event ? 1 : 0; });
             target.dispatchEvent(new Event('ping'));
             const controller = new AbortController(); let aborted = false;
             controller.signal.addEventListener('abort', () => { aborted = true; });
             controller.abort('why');
             const timeout = AbortSignal.timeout(1);
             await new Promise((resolve) => setTimeout(resolve, 5));
             const any = AbortSignal.any([new AbortController().signal, controller.signal]);
             const copy = structuredClone({ when: new Date(0), tags: new Set(['x']) });
             let microtask = false; queueMicrotask(() => { microtask = true; }); await null;
             return {
                 href: url.href, heard, aborted, reason: controller.signal.reason,
                 timeout: timeout.reason.name, any: any.aborted,
                 copy: [copy.when.getTime(), copy.tags.has('x')],
                 microtask, now: typeof performance.now(),
             };
         }",
    );
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!({
            "href": "https://h.test/a?b=1&c=2", "heard": 1, "aborted": true, "reason": "why",
            "timeout": "TimeoutError", "any": true, "copy": [0, true], "microtask": true, "now": "number"
        })
    );
}

#[test]
fn url_follows_the_whatwg_standard() {
    let mut loaded = load_handler(
        "h",
        r#"function handler() {
             const u = new URL('HTTPS://User:Pw@Example.COM:443/a/./b/../c?x=1&y=2#frag');
             const parts = [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash];
             const relative = new URL('../d?q', 'http://h.test/a/b/c').href;
             const idna = new URL('http://münchen.de/ä').href;
             let invalid;
             try { new URL('not a url'); } catch (e) { invalid = [e instanceof TypeError, e.code, e.input, e.message]; }
             const set = new URL('http://h.test/p');
             set.pathname = 'x y'; set.search = 'a=1'; set.hash = 'h'; set.port = '8080'; set.hostname = 'other.test';
             set.protocol = 'https'; set.port = 'bad';
             const params = new URL('http://h.test/?a=1&b=2');
             params.searchParams.append('c', '3'); params.searchParams.delete('a');
             const afterParams = params.href;
             params.search = '?z=9';
             const followed = [...params.searchParams].join(';');
             params.searchParams.delete('z');
             let href;
             try { set.href = '::'; } catch (e) { href = e.code; }
             return {
               parts, relative, idna, invalid, set: set.href, afterParams, followed, emptied: params.href, href,
               canParse: [URL.canParse('a:b'), URL.canParse('/x'), URL.canParse('/x', 'http://h')],
               parse: [URL.parse('nope'), URL.parse('/y', 'http://h.test').href],
               json: JSON.stringify({ u: new URL('http://h.test') }),
               string: String(new URL('file:///tmp/a b')),
               tag: Object.prototype.toString.call(u), instance: u instanceof URL,
               keys: Object.keys(URL.prototype).length > 10,
               sp: params.searchParams instanceof URLSearchParams,
             };
           }"#,
    );
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!({
            "parts": ["https://User:Pw@example.com/a/c?x=1&y=2#frag", "https://example.com", "https:", "User", "Pw",
                      "example.com", "example.com", "", "/a/c", "?x=1&y=2", "#frag"],
            "relative": "http://h.test/a/d?q",
            "idna": "http://xn--mnchen-3ya.de/%C3%A4",
            "invalid": [true, "ERR_INVALID_URL", "not a url", "Invalid URL"],
            "set": "https://other.test:8080/x%20y?a=1#h",
            "afterParams": "http://h.test/?b=2&c=3",
            "followed": "z,9",
            "emptied": "http://h.test/",
            "href": "ERR_INVALID_URL",
            "canParse": [true, false, true],
            "parse": [null, "http://h.test/y"],
            "json": r#"{"u":"http://h.test/"}"#,
            "string": "file:///tmp/a%20b",
            "tag": "[object URL]",
            "instance": true,
            "keys": true,
            "sp": true,
        })
    );
}
