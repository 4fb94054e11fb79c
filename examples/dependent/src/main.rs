//! The README's quickstart, built as a user's project would build it: a
//! crate outside the Polybox workspace, depending on `polybox` with its
//! default features.

fn main() -> polybox::Result<()> {
    let mut proto = polybox::SandboxBuilder::new().build()?;
    proto.host_module("math")?.register("add", |a: f64, b: f64| a + b)?;
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
