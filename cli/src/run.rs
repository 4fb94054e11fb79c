//! `polybox run`: a handler, an event (or a file of events), a result per
//! event. Files are told apart by their bytes: a WebAssembly component, or
//! JavaScript.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use polybox::{CallLimits, LoadedJSSandbox, ProtoJSSandbox, SandboxBuilder, Snapshot, Template};

use crate::failure::{EXIT_CODES, Failure};
use crate::sandbox_args::{LimitArgs, SandboxArgs};
use crate::source::{Code, read, read_bytes};

/// Arguments of `polybox run`.
#[derive(Args)]
#[command(after_help = EXIT_CODES)]
pub struct RunArgs {
    /// The handler: an ES module defining a function named `handler` (or
    /// exporting it, by name or as the default export), or a component
    /// implementing the `handler` world of `wit/`. Not with --template.
    #[arg(required_unless_present = "template", conflicts_with = "template")]
    handler: Option<PathBuf>,
    /// Serve from a template file (`polybox template build`) instead of a
    /// handler: nothing is compiled or evaluated. The sandbox flags and
    /// --host-component must be those it was built with.
    #[arg(long, value_name = "FILE.pbx", conflicts_with = "modules")]
    template: Option<PathBuf>,
    /// Which of the template's handlers to call (its file name when it was
    /// built); needed only when it has several.
    #[arg(long, value_name = "NAME", requires = "template")]
    name: Option<String>,
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
pub fn run(mut args: RunArgs) -> Result<(), Failure> {
    if let Some(handler) = &args.handler {
        args.sandbox.language_of(handler);
    }
    let builder = args
        .sandbox
        .builder(&args.limits)
        .log_sink(|level, line| eprintln!("[{level}] {line}"));
    let limits = args.limits.limits();
    let (mut loaded, name) = match (&args.template, &args.handler) {
        (Some(template), _) => from_template(&args, builder, template)?,
        (None, Some(handler)) => {
            let name = handler_name(handler);
            (load(&args, handler, builder, &name, &limits)?, name)
        }
        (None, None) => unreachable!("clap requires a handler or --template"),
    };
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
    handler: &Path,
    builder: SandboxBuilder,
    name: &str,
    limits: &CallLimits,
) -> Result<LoadedJSSandbox, Failure> {
    let mut sandbox = proto(builder, &args.host_components)?.load_runtime()?;
    for module in modules(&args.modules)? {
        let namespace = module.namespace.as_deref();
        match module.code {
            Code::Component(component) => {
                sandbox.add_component_module(&module.name, component, namespace)?
            }
            Code::Script(source) => sandbox.add_module(&module.name, source, namespace)?,
        }
    }
    match read(handler)? {
        Code::Component(component) => sandbox.add_component_handler(name, component)?,
        Code::Script(source) => sandbox.add_handler(name, source)?,
    }
    Ok(sandbox
        .get_loaded_sandbox_with_monitor(limits)
        .map_err(polybox::Error::from)?)
}

/// A sandbox created from the template file at `path`, and the handler to
/// call: `--name`, else the template's only one.
fn from_template(
    args: &RunArgs,
    builder: SandboxBuilder,
    path: &Path,
) -> Result<(LoadedJSSandbox, String), Failure> {
    let template = Template::load(path, proto(builder, &args.host_components)?)?;
    let name = template_handler(&template, args.name.as_deref())?;
    Ok((template.create()?, name))
}

/// The handler of `template` to call: `name` (`--name`), else its only one.
pub(crate) fn template_handler(template: &Template, name: Option<&str>) -> Result<String, Failure> {
    let handlers: Vec<&str> = template.handlers().collect();
    match (name, handlers.as_slice()) {
        (Some(name), _) => Ok(name.to_owned()),
        (None, [only]) => Ok((*only).to_owned()),
        (None, _) => Err(Failure::Sandbox(polybox::Error::InvalidArg(format!(
            "the template has the handlers {handlers:?}: choose one with --name"
        )))),
    }
}

/// A recipe with the host components of `specs` (`NAME=FILE`).
pub(crate) fn proto(builder: SandboxBuilder, specs: &[String]) -> Result<ProtoJSSandbox, Failure> {
    let mut proto = builder.build()?;
    for spec in specs {
        let (module, path) = split_spec(spec, "--host-component", "NAME=FILE")?;
        match read(Path::new(path))? {
            Code::Component(component) => proto.host_component(module, component)?,
            Code::Script(_) => {
                return Err(Failure::File(format!(
                    "--host-component {path} is not a WebAssembly component"
                )));
            }
        }
    }
    Ok(proto)
}

/// A module given as `--module NAMESPACE:NAME=FILE`.
pub(crate) struct ModuleArg {
    pub namespace: Option<String>,
    pub name: String,
    pub code: Code,
}

/// The modules of `specs`, read.
pub(crate) fn modules(specs: &[String]) -> Result<Vec<ModuleArg>, Failure> {
    specs
        .iter()
        .map(|spec| {
            let (specifier, path) = split_spec(spec, "--module", "NS:NAME=FILE")?;
            let (namespace, name) = match specifier.split_once(':') {
                Some((namespace, name)) => (Some(namespace.to_owned()), name),
                None => (None, specifier),
            };
            Ok(ModuleArg {
                namespace,
                name: name.to_owned(),
                code: read(Path::new(path))?,
            })
        })
        .collect()
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
pub(crate) fn handler_name(path: &Path) -> String {
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
