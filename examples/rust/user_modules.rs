//! User modules: namespaces, dependencies in any order, shared state.

use polybox::SandboxBuilder;

fn main() -> polybox::Result<()> {
    let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    // Registered before its dependency: modules resolve lazily.
    sandbox.add_module(
        "geometry",
        "import { PI } from 'user:constants';\nexport const circleArea = (r) => PI * r * r;",
        None,
    )?;
    sandbox.add_module("constants", "export const PI = 3.14159;", None)?;
    // A custom namespace, and state shared by every importer.
    sandbox.add_module(
        "counter",
        "let count = 0;\nexport const increment = () => ++count;\nexport const current = () => count;",
        Some("stats"),
    )?;
    sandbox.add_handler(
        "area",
        "import { circleArea } from 'user:geometry';\nimport { increment } from 'stats:counter';\n\
         function handler(e) { increment(); return { area: circleArea(e.r) }; }",
    )?;
    sandbox.add_handler(
        "calls",
        "import { current } from 'stats:counter';\nfunction handler() { return { calls: current() }; }",
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    println!("{}", loaded.handle_event("area", r#"{"r":2}"#, None)?);
    println!("{}", loaded.handle_event("area", r#"{"r":1}"#, None)?);
    println!("{}", loaded.handle_event("calls", "{}", None)?);
    Ok(())
}
