//! `polybox run`: one handler, one event, one result.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use polybox::{
    CpuTimeMonitor, Error, FuelBudget, Result, SandboxBuilder, Script, WallClockMonitor,
};

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
    /// Stop the call after this many milliseconds of wall-clock time.
    #[arg(long, value_name = "MS")]
    wall_ms: Option<u64>,
    /// Stop the call after this many milliseconds of CPU time.
    #[arg(long, value_name = "MS")]
    cpu_ms: Option<u64>,
    /// Stop the call after this much fuel (about one unit per wasm instruction).
    #[arg(long, value_name = "UNITS")]
    fuel: Option<u64>,
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
    let limits = (
        args.wall_ms
            .map(|ms| WallClockMonitor::new(Duration::from_millis(ms)))
            .transpose()?,
        args.cpu_ms
            .map(|ms| CpuTimeMonitor::new(Duration::from_millis(ms)))
            .transpose()?,
        args.fuel.map(FuelBudget::new).transpose()?,
    );
    let proto = SandboxBuilder::new()
        .fuel_metering(args.fuel.is_some())
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
