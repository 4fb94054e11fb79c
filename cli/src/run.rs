//! `polybox run`: a handler, an event (or a file of events), a result per
//! event. Files are told apart by their bytes: a WebAssembly component, or
//! JavaScript.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use polybox::{CallLimits, LoadedJSSandbox, SandboxBuilder, Snapshot};

use crate::failure::{EXIT_CODES, Failure};
use crate::sandbox_args::{LimitArgs, SandboxArgs};
use crate::source::{Code, read, read_bytes};

/// Arguments of `polybox run`.
#[derive(Args)]
#[command(after_help = EXIT_CODES)]
pub struct RunArgs {
    /// The handler: an ES module defining a function named `handler` (or
    /// exporting it, by name or as the default export), or a component
    /// implementing the `handler` world of `wit/`.
    handler: PathBuf,
    /// The event, as JSON. Without --event, --event-file or --events, the
    /// handler is called once with `{}`.
    #[arg(long, conflicts_with_all = ["event_file", "events"])]
    event: Option<String>,
    /// A file holding the event as JSON; `-` reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with = "events")]
    event_file: Option<PathBuf>,
    /// A file of events, one JSON value per line (`-` reads standard input):
    /// the handler is called once per line and prints one result per line.
    /// A call a limit stops is reported, and the next line starts from the
    /// state after loading.
    #[arg(long, value_name = "FILE.jsonl")]
    events: Option<PathBuf>,
    /// A module the handler may import, as `NAMESPACE:NAME=FILE` (or
    /// `NAME=FILE` for the `user` namespace): JavaScript, or a component
    /// whose exports become the module's functions. Repeatable.
    #[arg(long = "module", value_name = "NS:NAME=FILE")]
    modules: Vec<String>,
    /// A component whose exports guests import as `host:NAME`, as
    /// `NAME=FILE`. Repeatable.
    #[arg(long = "host-component", value_name = "NAME=FILE")]
    host_components: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Print each call's statistics on stderr.
    #[arg(long)]
    stats: bool,
}

/// Runs the handler and prints each result on stdout. Guest output goes to
/// stderr, prefixed with its level.
pub fn run(args: RunArgs) -> Result<(), Failure> {
    let builder = args
        .sandbox
        .builder(&args.limits)
        .log_sink(|level, line| eprintln!("[{level}] {line}"));
    let limits = args.limits.limits();
    let name = handler_name(&args.handler);
    let mut loaded = load(&args, builder, &name, &limits)?;
    match &args.events {
        Some(path) => run_events(&mut loaded, &name, path, &limits, args.stats),
        None => {
            let event = match &args.event_file {
                Some(path) => String::from_utf8(read_bytes(path)?)
                    .map_err(|_| Failure::File(format!("{} is not UTF-8 text", path.display())))?,
                None => args.event.clone().unwrap_or_else(|| "{}".to_owned()),
            };
            let result = call(&mut loaded, &name, &event, &limits, args.stats)?;
            println!("{result}");
            Ok(())
        }
    }
}

/// Builds the sandbox, adds the host components, modules and the handler,
/// and loads them, bounded by the call limits (loading runs top-level code).
fn load(
    args: &RunArgs,
    builder: SandboxBuilder,
    name: &str,
    limits: &CallLimits,
) -> Result<LoadedJSSandbox, Failure> {
    let mut proto = builder.build()?;
    for spec in &args.host_components {
        let (module, path) = split_spec(spec, "--host-component", "NAME=FILE")?;
        match read(Path::new(path))? {
            Code::Component(component) => proto.host_component(module, component)?,
            Code::JavaScript(_) => {
                return Err(Failure::File(format!(
                    "--host-component {path} is not a WebAssembly component"
                )));
            }
        }
    }
    let mut sandbox = proto.load_runtime()?;
    for spec in &args.modules {
        let (specifier, path) = split_spec(spec, "--module", "NS:NAME=FILE")?;
        let (namespace, module) = match specifier.split_once(':') {
            Some((namespace, module)) => (Some(namespace), module),
            None => (None, specifier),
        };
        match read(Path::new(path))? {
            Code::Component(component) => {
                sandbox.add_component_module(module, component, namespace)?
            }
            Code::JavaScript(source) => sandbox.add_module(module, source, namespace)?,
        }
    }
    match read(&args.handler)? {
        Code::Component(component) => sandbox.add_component_handler(name, component)?,
        Code::JavaScript(source) => sandbox.add_handler(name, source)?,
    }
    Ok(sandbox
        .get_loaded_sandbox_with_monitor(limits)
        .map_err(polybox::Error::from)?)
}

/// Calls the handler once; prints stats if asked. Guest stacks name the
/// user's file, not the handler's module name inside the guest.
fn call(
    loaded: &mut LoadedJSSandbox,
    name: &str,
    event: &str,
    limits: &CallLimits,
    stats: bool,
) -> Result<String, Failure> {
    let result = loaded.handle_event_with_monitor(name, event, limits, None);
    if stats && let Some(stats) = loaded.last_call_stats() {
        eprintln!(
            "stats: wall {:?}, cpu {}, fuel {}, terminated by {}",
            stats.wall_clock,
            stats.cpu_time.map_or("n/a".into(), |t| format!("{t:?}")),
            stats.fuel_consumed.map_or("n/a".into(), |f| f.to_string()),
            stats.terminated_by.unwrap_or("-"),
        );
    }
    result.map_err(|error| match error {
        polybox::Error::Guest(mut guest) => {
            let module = format!("handler/{name}");
            guest.message = guest.message.replace(&module, name);
            guest.stack = guest.stack.map(|stack| stack.replace(&module, name));
            Failure::Sandbox(polybox::Error::Guest(guest))
        }
        other => Failure::Sandbox(other),
    })
}

/// Calls the handler once per line of `path`; prints a result per line. A
/// failing line is reported on stderr with its number; the call after a
/// stopped one starts from the state after loading. Fails with the first
/// failure's exit code once every line ran.
fn run_events(
    loaded: &mut LoadedJSSandbox,
    name: &str,
    path: &Path,
    limits: &CallLimits,
    stats: bool,
) -> Result<(), Failure> {
    let loaded_state: Snapshot = loaded.snapshot()?;
    let bytes = read_bytes(path)?;
    let mut first_failure = None;
    let mut stdout = std::io::stdout().lock();
    for (index, line) in bytes.lines().enumerate() {
        let line =
            line.map_err(|_| Failure::File(format!("{} is not UTF-8 text", path.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        match call(loaded, name, &line, limits, stats) {
            Ok(result) => {
                let _ = writeln!(stdout, "{result}");
            }
            Err(failure) => {
                eprintln!("line {}: {failure}", index + 1);
                if loaded.poisoned() {
                    loaded.restore(&loaded_state)?;
                }
                first_failure.get_or_insert(failure);
            }
        }
    }
    first_failure.map_or(Ok(()), Err)
}

/// The handler's name inside the sandbox: its file's name, so that guest
/// stacks point at the user's file.
fn handler_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty() && name != "-")
        .unwrap_or_else(|| "handler".to_owned())
}

/// Splits `KEY=FILE`.
fn split_spec<'a>(spec: &'a str, flag: &str, shape: &str) -> Result<(&'a str, &'a str), Failure> {
    spec.split_once('=').ok_or_else(|| {
        Failure::Sandbox(polybox::Error::InvalidArg(format!(
            "{flag} {spec:?} must look like {shape}"
        )))
    })
}
