//! The tools capability through the public API: named host tools with a
//! JSON Schema, called from programs and handlers, their input checked and
//! their use decided by the `tool` scope before the host code runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use polybox::permissions::Permissions;
use polybox::{ErrorCode, ExecOptions, Runtime, SandboxBuilder, Tool};
use polybox_tests::load_with;
use serde_json::{Value, json};

fn add(calls: Arc<AtomicUsize>) -> Tool {
    Tool::new(
        "add",
        "Adds two numbers",
        json!({
            "type": "object",
            "properties": { "a": { "type": "number" }, "b": { "type": "number" } },
            "required": ["a", "b"],
            "additionalProperties": false
        }),
        move |input: Value| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(json!({ "sum": input["a"].as_f64().unwrap() + input["b"].as_f64().unwrap() }))
        },
    )
    .unwrap()
}

fn failing() -> Tool {
    Tool::new(
        "broken",
        "Always fails",
        json!({ "type": "object" }),
        |_| Err("the backend is down".to_owned()),
    )
    .unwrap()
}

fn run(sandbox: SandboxBuilder, code: &str) -> String {
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    let output = runtime.exec(code, ExecOptions::default()).unwrap();
    assert_eq!(
        output.exit_code,
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn programs_call_tools_as_methods_and_imports() {
    let calls = Arc::new(AtomicUsize::new(0));
    let out = run(
        SandboxBuilder::new().tool(add(calls.clone())),
        "import { add } from 'host:tools';
         console.log((await tools.add({ a: 2, b: 3 })).sum, add({ a: 1, b: 1 }).sum);",
    );
    assert_eq!(out, "5 2\n");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn input_that_does_not_match_the_schema_never_reaches_the_tool() {
    let calls = Arc::new(AtomicUsize::new(0));
    let out = run(
        SandboxBuilder::new().tool(add(calls.clone())).tool(failing()),
        "for (const input of [{ a: 1 }, { a: 'x', b: 2 }, { a: 1, b: 2, c: 3 }, 'text', undefined]) {
           try { await tools.add(input); console.log('called'); } catch (e) { console.log(e.name, e.message.includes('schema')); }
         }
         try { await tools.broken({}); } catch (e) { console.log(e.name, e.message); }
         try { await tools.missing({}); } catch (e) { console.log(e.name); }",
    );
    assert_eq!(
        out,
        "TypeError true\nTypeError true\nTypeError true\nTypeError true\nTypeError true\nError the backend is down\nError\n"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn the_tool_scope_decides_each_tool() {
    let calls = Arc::new(AtomicUsize::new(0));
    let policy = Permissions::from_json(
        r#"{"tool":{"default":"allow","rules":[{"mode":"deny","patterns":["add"]}]}}"#,
    )
    .unwrap();
    let out = run(
        SandboxBuilder::new()
            .tool(add(calls.clone()))
            .tool(failing())
            .permissions(policy),
        "try { await tools.add({ a: 1, b: 2 }); } catch (e) { console.log(e.message); }
         try { await tools.broken({}); } catch (e) { console.log(e.message); }",
    );
    assert_eq!(
        out,
        "EACCES: the sandbox's permissions deny the tool \"add\"\nthe backend is down\n"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let none = Permissions::from_json(r#"{"tool":"deny"}"#).unwrap();
    let out = run(
        SandboxBuilder::new().tool(failing()).permissions(none),
        "try { await tools.broken({}); } catch (e) { console.log(e.message); }",
    );
    assert!(out.starts_with("EACCES"), "{out}");
}

#[test]
fn handlers_call_tools_too() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut loaded = load_with(
        SandboxBuilder::new().tool(add(calls)),
        &[(
            "sum",
            "export default async (e) => (await tools.add(e)).sum;",
        )],
    );
    assert_eq!(
        loaded
            .handle_event("sum", r#"{"a":4,"b":5}"#, None)
            .unwrap(),
        "9"
    );
}

#[test]
fn tools_describe_themselves_in_typescript() {
    let text = Tool::typescript([&add(Arc::default()), &failing()]);
    assert!(text.contains("declare const tools: {"), "{text}");
    assert!(text.contains("/** Adds two numbers */\n  add(input: {\n    a: number;\n    b: number;\n  }): Promise<unknown>;"), "{text}");
    assert!(
        text.contains("broken(input: Record<string, unknown>): Promise<unknown>;"),
        "{text}"
    );
}

#[test]
fn bad_tools_are_refused() {
    for name in ["", "two words", "1st", "a-b"] {
        let error = Tool::new(name, "", json!({}), |_| Ok(Value::Null)).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidArg, "{name:?}");
    }
    let error = Tool::new("t", "", json!({ "type": "no such type" }), |_| {
        Ok(Value::Null)
    })
    .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidArg);
    let mut proto = SandboxBuilder::new().tool(failing()).build().unwrap();
    proto.register("tools", "other", |x: i64| x).unwrap();
    assert_eq!(
        proto.load_runtime().unwrap_err().code(),
        ErrorCode::InvalidArg
    );
}

#[test]
fn python_calls_tools_from_the_host_tools_module() {
    let calls = Arc::new(AtomicUsize::new(0));
    let builder = SandboxBuilder::new()
        .language(polybox::Language::Python)
        .tool(add(calls.clone()))
        .tool(failing());
    let mut loaded = load_with(
        builder,
        &[(
            "sum",
            "from host import tools\n\
             def handler(e):\n\
             \x20   out = [tools.add(e)['sum']]\n\
             \x20   for bad in [{'a': 1}, 'text']:\n\
             \x20       try:\n            tools.add(bad)\n        except TypeError as error:\n            out.append('schema' in str(error))\n\
             \x20   try:\n        tools.broken({})\n    except Exception as error:\n        out.append(str(error))\n\
             \x20   return out\n",
        )],
    );
    assert_eq!(
        loaded
            .handle_event("sum", r#"{"a":2,"b":3}"#, None)
            .unwrap(),
        r#"[5.0,true,true,"the backend is down"]"#
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
