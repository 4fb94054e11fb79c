//! The README's Rust quickstart: one handler, one host function, one call.

use polybox::SandboxBuilder;

fn main() -> polybox::Result<()> {
    // Host functions are registered before the runtime loads.
    let mut proto = SandboxBuilder::new().build()?;
    proto
        .host_module("math")?
        .register("add", |a: f64, b: f64| a + b)?;

    // Handlers are ES modules that define a function named `handler`.
    let mut sandbox = proto.load_runtime()?;
    sandbox.add_handler(
        "greet",
        r#"import * as math from "host:math";
           function handler(event) {
               return { message: `Hello, ${event.name}!`, answer: math.add(40, 2) };
           }"#,
    )?;

    let mut loaded = sandbox.get_loaded_sandbox()?;
    let result = loaded.handle_event("greet", r#"{"name":"World"}"#, None)?;
    println!("{result}");
    Ok(())
}
