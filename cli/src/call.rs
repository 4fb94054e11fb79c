//! `polybox call`: isola's model from the command line. Load a script into
//! a session and call one of its functions by name, with positional and
//! keyword arguments as JSON; a generator's values print as they are
//! yielded, one JSON line each, then the return value.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;

use clap::Args;
use polybox::{Argument, RuntimeBuilder, SessionEvent, SessionTemplate};

use crate::failure::{EXIT_CODES, Failure};
use crate::sandbox_args::{LimitArgs, SandboxArgs};
use crate::source::{Code, read};

/// Arguments of `polybox call`.
#[derive(Args)]
#[command(after_help = EXIT_CODES)]
pub struct CallArgs {
    /// The script whose global functions can be called (top-level `await`
    /// allowed): JavaScript, or Python (a `.py` file, or --language).
    script: PathBuf,
    /// The function to call.
    name: String,
    /// The positional arguments, as a JSON array.
    #[arg(long, value_name = "JSON", default_value = "[]")]
    args: String,
    /// Keyword arguments, as a JSON object: bound to the function's
    /// parameters by name.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    kwargs: String,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// Runs the call: each yielded value on a line of stdout, then the return
/// value; what the call writes to its stdout and stderr goes to stderr.
pub fn call(mut args: CallArgs) -> Result<(), Failure> {
    args.sandbox.language_of(&args.script);
    let invalid = |what: &str, e: serde_json::Error| {
        Failure::Sandbox(polybox::Error::InvalidArg(format!(
            "--{what} is not JSON: {e}"
        )))
    };
    let positional: Vec<serde_json::Value> =
        serde_json::from_str(&args.args).map_err(|e| invalid("args (an array)", e))?;
    let keywords: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&args.kwargs).map_err(|e| invalid("kwargs (an object)", e))?;
    let Code::Script(source) = read(&args.script)? else {
        return Err(Failure::File(format!(
            "{} is a component; polybox call runs JavaScript and Python scripts",
            args.script.display()
        )));
    };
    let runtime = RuntimeBuilder::new().sandbox(args.sandbox.builder(&args.limits));
    let template = SessionTemplate::builder(runtime.clone()).build()?;
    let mut session = template.create(runtime)?;
    session.load_script_as(&source, Some(&args.script.to_string_lossy()))?;
    let positional: Vec<Argument> = positional
        .iter()
        .map(|value| Argument::Json(value.to_string()))
        .collect();
    let keywords: Vec<(String, Argument)> = keywords
        .iter()
        .map(|(key, value)| (key.clone(), Argument::Json(value.to_string())))
        .collect();
    let (send, receive) = mpsc::channel();
    let printer = std::thread::spawn(move || {
        for event in receive {
            match event {
                SessionEvent::Result(json) => println!("{json}"),
                SessionEvent::Stdout(text) | SessionEvent::Stderr(text) => {
                    let _ = std::io::stderr().write_all(text.as_bytes());
                }
                SessionEvent::End(_) | SessionEvent::Error(_) => {}
            }
        }
    });
    let result = session.call_streaming(
        &args.name,
        &positional,
        &keywords,
        &args.limits.limits(),
        move |event| {
            let _ = send.send(event);
        },
    );
    let _ = printer.join();
    println!("{}", result?);
    Ok(())
}
