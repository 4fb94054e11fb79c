//! `polybox run`: one handler, one event, one result. Files ending in
//! `.wasm` are components; anything else is JavaScript.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use polybox::{Backend, CallLimits, Error, Result, SandboxBuilder, Script, WasmComponent};

/// Arguments of `polybox run`.
#[derive(Args)]
pub struct RunArgs {
    /// The handler: an ES module defining a function named `handler`, or a
    /// component (`.wasm`) implementing the `handler` world of `wit/`.
    handler: PathBuf,
    /// The event, as JSON.
    #[arg(long, conflicts_with = "event_file")]
    event: Option<String>,
    /// A file holding the event as JSON.
    #[arg(long)]
    event_file: Option<PathBuf>,
    /// A module the handler may import, as `NAMESPACE:NAME=FILE` (or
    /// `NAME=FILE` for the `user` namespace): JavaScript, or a component
    /// (`.wasm`) whose exports become the module's functions. Repeatable.
    #[arg(long = "module", value_name = "NS:NAME=FILE")]
    modules: Vec<String>,
    /// A component whose exports guests import as `host:NAME`, as
    /// `NAME=FILE`. Repeatable.
    #[arg(long = "host-component", value_name = "NAME=FILE")]
    host_components: Vec<String>,
    /// Stop the call after this many milliseconds of wall-clock time.
    #[arg(long, value_name = "MS")]
    wall_ms: Option<u64>,
    /// Stop the call after this many milliseconds of CPU time.
    #[arg(long, value_name = "MS")]
    cpu_ms: Option<u64>,
    /// Stop the call after this much fuel (about one unit per wasm instruction).
    #[arg(long, value_name = "UNITS")]
    fuel: Option<u64>,
    /// Where the sandbox runs: `wasmtime` (in process) or `hyperlight`
    /// (inside a micro-VM; needs a usable hypervisor).
    #[arg(long, default_value = "wasmtime")]
    backend: Backend,
    /// Print the call's statistics on stderr.
    #[arg(long)]
    stats: bool,
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
    let limits = CallLimits {
        wall_clock: args.wall_ms.map(Duration::from_millis),
        cpu_time: args.cpu_ms.map(Duration::from_millis),
        fuel: args.fuel,
    };
    let mut proto = SandboxBuilder::new()
        .backend(args.backend)
        .fuel_metering(args.fuel.is_some())
        .log_sink(|level, line| eprintln!("[{level}] {line}"))
        .build()?;
    for spec in &args.host_components {
        let (name, path) = split_spec(spec, "--host-component", "NAME=FILE")?;
        proto.host_component(name, WasmComponent::from_file(path)?)?;
    }
    let mut sandbox = proto.load_runtime()?;
    for spec in &args.modules {
        let (specifier, path) = split_spec(spec, "--module", "NS:NAME=FILE")?;
        let (namespace, name) = match specifier.split_once(':') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, specifier),
        };
        if is_component(path) {
            sandbox.add_component_module(name, WasmComponent::from_file(path)?, namespace)?;
        } else {
            let source = std::fs::read_to_string(path)
                .map_err(|e| Error::InvalidArg(format!("cannot read module {path}: {e}")))?;
            sandbox.add_module(name, source, namespace)?;
        }
    }
    if is_component(&args.handler) {
        sandbox.add_component_handler("handler", WasmComponent::from_file(&args.handler)?)?;
    } else {
        sandbox.add_handler("handler", Script::from_file(&args.handler)?)?;
    }
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let result = loaded.handle_event_with_monitor("handler", &event, &limits, None);
    if args.stats
        && let Some(stats) = loaded.last_call_stats()
    {
        eprintln!(
            "stats: wall {:?}, cpu {}, fuel {}, terminated by {}",
            stats.wall_clock,
            stats.cpu_time.map_or("n/a".into(), |t| format!("{t:?}")),
            stats.fuel_consumed.map_or("n/a".into(), |f| f.to_string()),
            stats.terminated_by.unwrap_or("-"),
        );
    }
    println!("{}", result?);
    Ok(())
}

/// Splits `KEY=FILE`.
fn split_spec<'a>(spec: &'a str, flag: &str, shape: &str) -> Result<(&'a str, &'a str)> {
    spec.split_once('=')
        .ok_or_else(|| Error::InvalidArg(format!("{flag} {spec:?} must look like {shape}")))
}

/// Whether `path` names a component rather than JavaScript.
fn is_component(path: impl AsRef<Path>) -> bool {
    path.as_ref().extension().is_some_and(|ext| ext == "wasm")
}
