//! User modules: namespaces, lazy resolution, shared state.

use polybox::{ErrorCode, GuestErrorKind, SandboxBuilder};
use polybox_tests::{call, expect_code};
use serde_json::json;

fn runtime() -> polybox::JSSandbox {
    polybox_tests::runtime(SandboxBuilder::new())
}

#[test]
fn a_handler_imports_a_user_module() {
    let mut sandbox = runtime();
    sandbox
        .add_module("math", "export function add(a, b) { return a + b; }", None)
        .unwrap();
    sandbox
        .add_handler(
            "sum",
            "import { add } from 'user:math';\nfunction handler(e) { return add(e.a, e.b); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "sum", json!({"a": 2, "b": 40})).unwrap(),
        json!(42)
    );
}

#[test]
fn custom_namespaces_resolve() {
    let mut sandbox = runtime();
    sandbox
        .add_module(
            "utils",
            "export function greet() { return 'hi'; }",
            Some("mylib"),
        )
        .unwrap();
    sandbox
        .add_handler(
            "h",
            "import { greet } from 'mylib:utils';\nfunction handler() { return greet(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "h", json!({})).unwrap(), json!("hi"));
}

#[test]
fn modules_import_each_other_in_any_registration_order() {
    let mut sandbox = runtime();
    sandbox
        .add_module(
            "geometry",
            "import { PI } from 'user:constants';\nexport const area = (r) => PI * r * r;",
            None,
        )
        .unwrap();
    sandbox
        .add_module("constants", "export const PI = 3;", None)
        .unwrap();
    sandbox
        .add_handler(
            "h",
            "import { area } from 'user:geometry';\nfunction handler(e) { return area(e.r); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "h", json!({"r": 2})).unwrap(), json!(12));
}

#[test]
fn module_state_persists_across_calls_and_is_shared_between_handlers() {
    let mut sandbox = runtime();
    sandbox
        .add_module(
            "counter",
            "let n = 0;\nexport const inc = () => ++n;\nexport const get = () => n;",
            None,
        )
        .unwrap();
    sandbox
        .add_handler(
            "writer",
            "import { inc } from 'user:counter';\nfunction handler() { return inc(); }",
        )
        .unwrap();
    sandbox
        .add_handler(
            "reader",
            "import { get } from 'user:counter';\nfunction handler() { return get(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "writer", json!({})).unwrap(), json!(1));
    assert_eq!(call(&mut loaded, "reader", json!({})).unwrap(), json!(1));
    assert_eq!(call(&mut loaded, "writer", json!({})).unwrap(), json!(2));
    assert_eq!(call(&mut loaded, "reader", json!({})).unwrap(), json!(2));
}

#[test]
fn an_import_cycle_between_modules_links() {
    let mut sandbox = runtime();
    sandbox
        .add_module("even", "import { odd } from 'user:odd';\nexport const even = (n) => n === 0 ? true : odd(n - 1);", None)
        .unwrap();
    sandbox
        .add_module("odd", "import { even } from 'user:even';\nexport const odd = (n) => n === 0 ? false : even(n - 1);", None)
        .unwrap();
    sandbox
        .add_handler(
            "h",
            "import { even } from 'user:even';\nfunction handler(e) { return even(e.n); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({"n": 10})).unwrap(),
        json!(true)
    );
}

#[test]
fn importing_an_unregistered_module_fails_at_load_with_its_name() {
    for specifier in ["user:nope", "mylib:missing", "host:absent", "fs", "node:fs"] {
        let mut sandbox = runtime();
        sandbox
            .add_handler(
                "h",
                format!("import * as m from '{specifier}';\nfunction handler() {{ return 1; }}"),
            )
            .unwrap();
        let error = sandbox.get_loaded_sandbox().unwrap_err().error;
        let guest = error
            .guest_error()
            .unwrap_or_else(|| panic!("{specifier}: {error}"));
        assert_eq!(
            guest.kind,
            GuestErrorKind::ModuleNotFound,
            "{specifier}: {error}"
        );
        assert!(guest.message.contains(specifier), "{}", guest.message);
    }
}

#[test]
fn a_module_that_throws_while_evaluating_fails_the_load() {
    let mut sandbox = runtime();
    sandbox
        .add_module("bad", "throw new Error('module init failed');", None)
        .unwrap();
    sandbox
        .add_handler("h", "import 'user:bad';\nfunction handler() {}")
        .unwrap();
    let error = sandbox.get_loaded_sandbox().unwrap_err().error;
    assert_eq!(error.code(), ErrorCode::GuestError);
    assert!(error.to_string().contains("module init failed"), "{error}");
}

#[test]
fn the_host_namespace_is_reserved() {
    let mut sandbox = runtime();
    let message = expect_code(
        sandbox.add_module("m", "export const x = 1;", Some("host")),
        ErrorCode::InvalidArg,
    );
    assert!(message.contains("reserved"), "{message}");
}

#[test]
fn module_names_and_namespaces_are_validated() {
    let mut sandbox = runtime();
    expect_code(sandbox.add_module("", "", None), ErrorCode::InvalidArg);
    expect_code(sandbox.add_module("m", "", Some("")), ErrorCode::InvalidArg);
    expect_code(
        sandbox.add_module("m", "", Some("a:b")),
        ErrorCode::InvalidArg,
    );
    expect_code(sandbox.add_module("m\n", "", None), ErrorCode::InvalidArg);
}

#[test]
fn removed_and_cleared_modules_are_not_loaded() {
    let mut sandbox = runtime();
    sandbox
        .add_module("a", "export const x = 1;", None)
        .unwrap();
    assert!(sandbox.remove_module("a", None).unwrap());
    assert!(!sandbox.remove_module("a", None).unwrap());
    sandbox
        .add_module("b", "export const x = 1;", Some("ns"))
        .unwrap();
    sandbox.clear_modules();
    sandbox
        .add_handler(
            "h",
            "import { x } from 'ns:b';\nfunction handler() { return x; }",
        )
        .unwrap();
    let error = sandbox.get_loaded_sandbox().unwrap_err().error;
    assert_eq!(
        error.guest_error().unwrap().kind,
        GuestErrorKind::ModuleNotFound
    );
}
