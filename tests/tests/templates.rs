//! Templates: a sandbox captured once and started many times, in this
//! process or, through a file, in another; the file's checks; the cache.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use polybox::{
    Backend, CacheStatus, CallLimits, ErrorCode, Pool, ProtoJSSandbox, SandboxBuilder, Strategy,
    Template, TemplateBuilder,
};
use polybox_tests::{expect_code, host_dir};

/// A handler whose top-level code calls a host function once, and a
/// counter kept in a global.
const SUM: &str = "import { add } from 'host:math';
const offset = add(40, 2);
function handler(e) { globalThis.calls = (globalThis.calls ?? 0) + 1; return { sum: add(e.a, e.b), offset, calls }; }";
const SPIN: &str = "function handler() { for (;;) {} }";

/// A recipe with `math.add`, counting its calls in `calls`.
fn proto(calls: &Arc<AtomicUsize>) -> ProtoJSSandbox {
    let mut proto = SandboxBuilder::new().build().unwrap();
    let calls = calls.clone();
    proto
        .register("math", "add", move |a: f64, b: f64| {
            calls.fetch_add(1, Ordering::SeqCst);
            a + b
        })
        .unwrap();
    proto
}

/// The result of `sum` with `event` in a new sandbox of `template`.
fn first_sum(template: &Template, event: &str) -> String {
    template
        .create()
        .unwrap()
        .handle_event("sum", event, None)
        .unwrap()
}

fn within_20ms() -> CallLimits {
    CallLimits {
        wall_clock: Some(std::time::Duration::from_millis(20)),
        ..CallLimits::default()
    }
}

fn builder(calls: &Arc<AtomicUsize>) -> TemplateBuilder {
    Template::builder(proto(calls))
        .handler("sum", SUM)
        .handler("spin", SPIN)
}

#[test]
fn sandboxes_created_from_a_template_start_loaded_and_separate() {
    let calls = Arc::new(AtomicUsize::new(0));
    let template = builder(&calls).build().unwrap();
    // The top-level code ran once, at build.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(template.handlers().collect::<Vec<_>>(), ["spin", "sum"]);
    assert_eq!(template.cache_status(), &CacheStatus::Disabled);

    let mut first = template.create().unwrap();
    let mut second = template.create().unwrap();
    let event = r#"{"a":1,"b":2}"#;
    assert_eq!(
        first.handle_event("sum", event, None).unwrap(),
        r#"{"sum":3,"offset":42,"calls":1}"#
    );
    assert_eq!(
        first.handle_event("sum", event, None).unwrap(),
        r#"{"sum":3,"offset":42,"calls":2}"#
    );
    // Nothing of the first sandbox's state reaches the second.
    assert_eq!(
        second.handle_event("sum", event, None).unwrap(),
        r#"{"sum":3,"offset":42,"calls":1}"#
    );
    // Creating evaluated nothing: only the three calls' `add`s ran.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn a_templates_snapshot_restores_any_of_its_sandboxes_even_poisoned() {
    let calls = Arc::new(AtomicUsize::new(0));
    let template = builder(&calls).build().unwrap();
    let mut sandbox = template.create().unwrap();
    sandbox
        .handle_event("sum", r#"{"a":1,"b":1}"#, None)
        .unwrap();
    let limits = within_20ms();
    expect_code(
        sandbox.handle_event_with_monitor("spin", "{}", &limits, None),
        ErrorCode::Cancelled,
    );
    assert!(sandbox.poisoned());
    sandbox.restore(template.snapshot()).unwrap();
    assert_eq!(
        sandbox
            .handle_event("sum", r#"{"a":1,"b":1}"#, None)
            .unwrap(),
        r#"{"sum":2,"offset":42,"calls":1}"#
    );
}

#[test]
fn capture_takes_a_loaded_sandbox_and_refuses_another_recipe() {
    let calls = Arc::new(AtomicUsize::new(0));
    let recipe = proto(&calls);
    let mut sandbox = recipe.clone().load_runtime().unwrap();
    sandbox.add_handler("sum", SUM).unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    loaded
        .handle_event("sum", r#"{"a":0,"b":0}"#, None)
        .unwrap();
    let template = Template::capture(recipe, &mut loaded).unwrap();
    // The capture holds the state as it was: one call made.
    assert_eq!(
        first_sum(&template, r#"{"a":0,"b":0}"#),
        r#"{"sum":0,"offset":42,"calls":2}"#
    );
    let other = SandboxBuilder::new().build().unwrap();
    expect_code(Template::capture(other, &mut loaded), ErrorCode::InvalidArg);
}

#[test]
fn a_pool_of_a_template_serves_from_its_capture() {
    let calls = Arc::new(AtomicUsize::new(0));
    let template = builder(&calls).build().unwrap();
    let pool = Pool::of(template)
        .size(2)
        .strategy(Strategy::Restore)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            pool.call("sum", r#"{"a":2,"b":2}"#).unwrap(),
            r#"{"sum":4,"offset":42,"calls":1}"#
        );
    }
    let limits = within_20ms();
    expect_code(
        pool.call_with_limits("spin", "{}", &limits),
        ErrorCode::Cancelled,
    );
    assert_eq!(
        pool.call("sum", r#"{"a":2,"b":2}"#).unwrap(),
        r#"{"sum":4,"offset":42,"calls":1}"#
    );
    // Built once, at the template: pool members evaluated nothing.
    assert_eq!(calls.load(Ordering::SeqCst), 1 + 4);
}

#[test]
fn a_template_file_serves_calls_in_another_process() {
    let dir = host_dir("template-cross-process");
    let path = dir.join("sum.pbx");
    let calls = Arc::new(AtomicUsize::new(0));
    builder(&calls).build().unwrap().save(&path).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_template_serve"))
        .args([path.to_str().unwrap(), "sum", r#"{"a":20,"b":3}"#])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "{\"sum\":23,\"offset\":42,\"calls\":1}\n{\"sum\":23,\"offset\":42,\"calls\":1}\n"
    );
}

/// The error `Template::load` gives for `bytes` as a template file.
fn load_error(name: &str, bytes: &[u8], proto: ProtoJSSandbox) -> String {
    let dir = host_dir(name);
    let path = dir.join("t.pbx");
    std::fs::write(&path, bytes).unwrap();
    expect_code(Template::load(&path, proto), ErrorCode::InvalidArg).to_string()
}

#[test]
fn damaged_and_foreign_template_files_are_refused_saying_why() {
    let calls = Arc::new(AtomicUsize::new(0));
    let dir = host_dir("template-damaged");
    let path = dir.join("sum.pbx");
    builder(&calls).build().unwrap().save(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let refused = |name: &str, bytes: &[u8]| load_error(name, bytes, proto(&calls));

    assert!(refused("t-empty", b"").contains("not a Polybox template"));
    assert!(
        refused("t-text", b"export default {}\n".repeat(9).as_slice())
            .contains("not a Polybox template")
    );
    let mut version = good.clone();
    version[8] = 9;
    assert!(refused("t-version", &version).contains("format 9"));
    let truncated = &good[..good.len() - 4096];
    assert!(refused("t-truncated", truncated).contains("truncated"));
    assert!(
        refused("t-trailing", &[&good[..], b"x"].concat()).contains("truncated or has trailing")
    );
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last - 5000] ^= 0x10;
    assert!(refused("t-flipped", &flipped).contains("corrupted"));
    let mut header = good.clone();
    let at = header.windows(6).position(|w| w == b"\"spin\"").unwrap();
    header[at + 1] = b'S';
    assert!(refused("t-header", &header).contains("corrupted"));

    // Sandboxes that are not what the capture needs.
    let bare = SandboxBuilder::new().build().unwrap();
    let error = load_error("t-modules", &good, bare);
    assert!(error.contains("hostModules"), "{error}");
    let mut deeper = SandboxBuilder::new().stack_size(2 << 20).build().unwrap();
    deeper
        .register("math", "add", |a: f64, b: f64| a + b)
        .unwrap();
    let error = load_error("t-stack", &good, deeper);
    assert!(
        error.contains("stackSize: 1048576 in the template, 2097152 here"),
        "{error}"
    );
    let mut renamed = SandboxBuilder::new().build().unwrap();
    renamed
        .register("math", "plus", |a: f64, b: f64| a + b)
        .unwrap();
    assert!(load_error("t-fn", &good, renamed).contains("hostModules"));
    expect_code(
        Template::load(dir.join("missing.pbx"), proto(&calls)),
        ErrorCode::InvalidArg,
    );
    // The good file still loads.
    Template::load(&path, proto(&calls)).unwrap();
}

#[test]
fn the_cache_builds_a_template_once_and_survives_what_is_wrong_with_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let dir = host_dir("template-cache");
    let first = builder(&calls).cache_dir(&dir).build().unwrap();
    assert_eq!(first.cache_status(), &CacheStatus::Stored);
    let second = builder(&calls).cache_dir(&dir).build().unwrap();
    assert_eq!(second.cache_status(), &CacheStatus::Hit);
    // The hit evaluated nothing: the top-level `add` ran once in all.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        first_sum(&second, r#"{"a":1,"b":1}"#),
        r#"{"sum":2,"offset":42,"calls":1}"#
    );
    // Other inputs, another entry.
    let other = builder(&calls)
        .handler("sum", SUM.replace("40", "41"))
        .cache_dir(&dir)
        .build()
        .unwrap();
    assert_eq!(other.cache_status(), &CacheStatus::Stored);

    // Damaged entries are rebuilt and replaced.
    for path in std::fs::read_dir(&dir).unwrap() {
        let path = path.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
    let rebuilt = builder(&calls).cache_dir(&dir).build().unwrap();
    assert_eq!(rebuilt.cache_status(), &CacheStatus::Stored);
    assert_eq!(
        builder(&calls)
            .cache_dir(&dir)
            .build()
            .unwrap()
            .cache_status(),
        &CacheStatus::Hit
    );

    // A cache that cannot be written: built all the same.
    let blocked = host_dir("template-cache-blocked").join("file");
    std::fs::write(&blocked, b"not a directory").unwrap();
    let built = builder(&calls)
        .cache_dir(blocked.join("sub"))
        .build()
        .unwrap();
    assert!(matches!(built.cache_status(), CacheStatus::Unusable(_)));
    built
        .create()
        .unwrap()
        .handle_event("sum", r#"{"a":1,"b":1}"#, None)
        .unwrap();
}

#[test]
fn templates_refuse_bad_sources_and_the_hyperlight_backend() {
    let calls = Arc::new(AtomicUsize::new(0));
    expect_code(
        builder(&calls)
            .handler("broken", "function handler( {")
            .build(),
        ErrorCode::GuestError,
    );
    expect_code(
        builder(&calls).handler("", "function handler() {}").build(),
        ErrorCode::InvalidArg,
    );
    let spin_at_load = builder(&calls)
        .handler("stuck", "for (;;) {}\nfunction handler() {}")
        .load_limits(within_20ms())
        .build();
    expect_code(spin_at_load, ErrorCode::Cancelled);
    if let Ok(proto) = SandboxBuilder::new().backend(Backend::Hyperlight).build() {
        let error = expect_code(Template::builder(proto).build(), ErrorCode::InvalidArg);
        assert!(error.to_string().contains("wasmtime backend"));
    }
}

#[test]
fn a_sandbox_created_after_another_was_dropped_sees_nothing_of_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let template = builder(&calls)
        .handler(
            "scribble",
            "function handler(e) { globalThis.junk = new Array(e.n).fill('x'.repeat(64)); globalThis.calls = 99; return junk.length; }",
        )
        .build()
        .unwrap();
    // Each sandbox goes before the next is made, so the next may be made in
    // the memory the last one used: it must start as the template did,
    // whatever the last one did (wrote, grew, trapped).
    for round in 0..12 {
        let mut sandbox = template.create().unwrap();
        assert_eq!(
            sandbox
                .handle_event("sum", r#"{"a":1,"b":1}"#, None)
                .unwrap(),
            r#"{"sum":2,"offset":42,"calls":1}"#,
            "round {round}"
        );
        match round % 3 {
            0 => {
                sandbox
                    .handle_event("scribble", r#"{"n":100}"#, None)
                    .unwrap();
            }
            1 => {
                sandbox
                    .handle_event("scribble", r#"{"n":200000}"#, None)
                    .unwrap();
            }
            _ => {
                expect_code(
                    sandbox.handle_event_with_monitor("spin", "{}", &within_20ms(), None),
                    ErrorCode::Cancelled,
                );
            }
        }
        drop(sandbox);
    }
}
