//! What `polybox serve` serves: a fetch handler file (loaded once into a
//! template, every sandbox created from it), a template file or a
//! `wasi:http` component, as a pool of sandboxes; or a program that starts
//! a server, as processes (`programs.rs`).

use std::path::Path;

use polybox::{Backend, HttpRequest, HttpResponse, Pool, PoolBuilder, Template};

use super::programs::Programs;
use super::{ServeArgs, StrategyArg};
use crate::failure::Failure;
use crate::run::{handler_name, modules, proto, template_handler};
use crate::source::{Code, read};

/// What answers requests.
pub enum App {
    /// A pool of sandboxes, and the name of their fetch handler.
    Handler { pool: Pool, handler: String },
    /// Processes of a program whose server listens.
    Program(Box<Programs>),
}

impl App {
    /// Answers `request`, blocking until it is answered.
    pub fn answer(&self, request: &HttpRequest) -> polybox::Result<HttpResponse> {
        match self {
            Self::Handler { pool, handler } => pool.fetch(handler, request),
            Self::Program(programs) => programs.answer(request),
        }
    }

    /// Loads the app `args` name.
    pub fn load(args: &ServeArgs) -> Result<Self, Failure> {
        if args.sandbox.language(args.app.as_deref()) == polybox::Language::Python {
            return Err(Failure::Sandbox(polybox::Error::InvalidArg(
                "polybox serve runs JavaScript (fetch handlers and createServer programs) and \
                 wasi:http components; serving HTTP from Python is not supported yet"
                    .into(),
            )));
        }
        let code = match args.app.as_deref().filter(|_| args.template.is_none()) {
            Some(path) => match read(path)? {
                Code::Script(source) if is_program(&source) => {
                    return programs(args, path, source);
                }
                code => Some(code),
            },
            None => None,
        };
        let builder = sandbox(args, None)?;
        let builder = match args.sandbox.input_buffer() {
            Some(_) => builder,
            // Room for the largest request body in base64, and its headers.
            None => builder.input_buffer_size(args.max_body_bytes / 3 * 4 + 4 + (64 << 10)),
        };
        let backend = args.sandbox.backend();
        let proto = proto(builder, &args.host_components)?;
        let (pool, handler) = match (&args.template, &args.app) {
            (Some(path), _) => {
                let template = Template::load(path, proto)?;
                let handler = template_handler(&template, args.name.as_deref())?;
                (Pool::of(template), handler)
            }
            (None, Some(path)) => {
                let handler = handler_name(path);
                let code = code.expect("read above");
                (from_code(args, proto, backend, &handler, code)?, handler)
            }
            (None, None) => unreachable!("clap requires an app or --template"),
        };
        let pool = pool
            .size(args.pool)
            .strategy(handler_strategy(args).into())
            .limits(args.limits.limits())
            .build()?;
        Ok(Self::Handler { pool, handler })
    }
}

/// What a fetch handler's sandboxes keep between requests: `restore`
/// unless asked otherwise. Host components live beside the guest, outside
/// what a restore resets, so with them `restore` is served as `new`: each
/// request gets fresh components too, and nothing one request leaves is
/// seen by the next.
pub fn handler_strategy(args: &ServeArgs) -> StrategyArg {
    match args.strategy.unwrap_or(StrategyArg::Restore) {
        StrategyArg::Restore if !args.host_components.is_empty() => StrategyArg::New,
        strategy => strategy,
    }
}

/// The sandboxes' settings and grants, their output on stderr; `program`'s
/// directory is mounted for its imports.
fn sandbox(args: &ServeArgs, program: Option<&Path>) -> Result<polybox::SandboxBuilder, Failure> {
    Ok(args
        .capabilities
        .apply(args.sandbox.builder(&args.limits), program)?
        .log_sink(|level, line| eprintln!("[{level}] {line}")))
}

/// Whether `source` is a program that starts a server rather than a fetch
/// handler: it calls `createServer`, and exports no `fetch`.
fn is_program(source: &str) -> bool {
    source.contains("createServer") && !source.contains("export default")
}

/// The processes of a program app; their server keeps its state, so only
/// `--strategy reuse` fits, and a request's limit is its wall-clock time.
fn programs(args: &ServeArgs, path: &Path, source: String) -> Result<App, Failure> {
    let invalid = |message: String| Failure::Sandbox(polybox::Error::InvalidArg(message));
    if matches!(args.strategy, Some(StrategyArg::Restore | StrategyArg::New)) {
        return Err(invalid(format!(
            "{} is a program whose server keeps its state between requests: only --strategy reuse fits it",
            path.display()
        )));
    }
    let limits = args.limits.limits();
    if limits.cpu_time.is_some() || limits.fuel.is_some() {
        return Err(invalid(
            "a program's requests are bounded by --timeout-ms only (its process runs between them)"
                .into(),
        ));
    }
    if !args.modules.is_empty() || !args.host_components.is_empty() {
        return Err(invalid(
            "a program imports its modules itself: --module and --host-component are for fetch handlers".into(),
        ));
    }
    let timeout = limits
        .wall_clock
        .unwrap_or(std::time::Duration::from_secs(30));
    // The program's directory is mounted for its own imports.
    let path = &path
        .canonicalize()
        .map_err(|e| Failure::File(format!("cannot read {}: {e}", path.display())))?;
    let builder = sandbox(args, Some(path))?;
    let programs = Programs::start(path, source, builder, args.pool, timeout)?;
    Ok(App::Program(Box::new(programs)))
}

/// A pool of the handler `code`: JavaScript from a template on wasmtime
/// (each sandbox created in microseconds), else each sandbox loading it; a
/// component (a `wasi:http/proxy` one) in every sandbox of the pool.
fn from_code(
    args: &ServeArgs,
    proto: polybox::ProtoJSSandbox,
    backend: Backend,
    handler: &str,
    code: Code,
) -> Result<PoolBuilder, Failure> {
    let source = match code {
        Code::Script(source) => source,
        Code::Component(component) => {
            let (handler, limits) = (handler.to_owned(), args.limits.limits());
            return Ok(Pool::builder(move || {
                let mut sandbox = proto.clone().load_runtime()?;
                sandbox.add_component_handler(&handler, component.clone())?;
                Ok(sandbox.get_loaded_sandbox_with_monitor(&limits)?)
            }));
        }
    };
    let mut sources = Vec::new();
    for module in modules(&args.modules)? {
        let Code::Script(code) = module.code else {
            return Err(Failure::Sandbox(polybox::Error::InvalidArg(format!(
                "the module {:?} is a component: polybox serve takes JavaScript modules",
                module.name
            ))));
        };
        sources.push((module.namespace, module.name, code));
    }
    if backend == Backend::Wasmtime {
        let mut template = Template::builder(proto).load_limits(args.limits.limits());
        for (namespace, name, code) in sources {
            template = template.module(&name, code, namespace.as_deref());
        }
        return Ok(Pool::of(template.handler(handler, source).build()?));
    }
    let handler = handler.to_owned();
    let limits = args.limits.limits();
    Ok(Pool::builder(move || {
        let mut sandbox = proto.clone().load_runtime()?;
        for (namespace, name, code) in &sources {
            sandbox.add_module(name, code.clone(), namespace.as_deref())?;
        }
        sandbox.add_handler(&handler, source.clone())?;
        Ok(sandbox.get_loaded_sandbox_with_monitor(&limits)?)
    }))
}
