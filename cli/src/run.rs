//! `polybox run`: one handler, one event, one result.

use std::path::PathBuf;

use clap::Args;
use polybox::{Error, Result, SandboxBuilder, Script};

/// Arguments of `polybox run`.
#[derive(Args)]
pub struct RunArgs {
    /// The handler: an ES module defining a function named `handler`.
    handler: PathBuf,
    /// The event, as JSON.
    #[arg(long, conflicts_with = "event_file")]
    event: Option<String>,
    /// A file holding the event as JSON.
    #[arg(long)]
    event_file: Option<PathBuf>,
    /// A module the handler may import, as `NAMESPACE:NAME=FILE` (or
    /// `NAME=FILE` for the `user` namespace). Repeatable.
    #[arg(long = "module", value_name = "NS:NAME=FILE")]
    modules: Vec<String>,
}

/// Runs the handler and prints its result on stdout. Guest output goes to
/// stderr, prefixed with its level.
pub fn run(args: RunArgs) -> Result<()> {
    let event = match (&args.event, &args.event_file) {
        (Some(event), _) => event.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| Error::InvalidArg(format!("cannot read {}: {e}", path.display())))?,
        (None, None) => "{}".to_owned(),
    };
    let proto = SandboxBuilder::new()
        .log_sink(|level, line| eprintln!("[{level}] {line}"))
        .build()?;
    let mut sandbox = proto.load_runtime()?;
    for spec in &args.modules {
        let (namespace, name, path) = parse_module(spec)?;
        let source = std::fs::read_to_string(&path)
            .map_err(|e| Error::InvalidArg(format!("cannot read module {path}: {e}")))?;
        sandbox.add_module(name, source, namespace)?;
    }
    sandbox.add_handler("handler", Script::from_file(&args.handler)?)?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let result = loaded.handle_event("handler", &event, None)?;
    println!("{result}");
    Ok(())
}

/// Splits `NS:NAME=FILE` (or `NAME=FILE`).
fn parse_module(spec: &str) -> Result<(Option<&str>, &str, String)> {
    let (specifier, path) = spec.split_once('=').ok_or_else(|| {
        Error::InvalidArg(format!("--module {spec:?} must look like NS:NAME=FILE"))
    })?;
    let (namespace, name) = match specifier.split_once(':') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, specifier),
    };
    Ok((namespace, name, path.to_owned()))
}
