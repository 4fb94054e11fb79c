//! What `polybox serve` serves: a handler file (loaded once into a
//! template, every sandbox created from it) or a template file, as a pool of
//! sandboxes.

use polybox::{Backend, Pool, PoolBuilder, Template};

use super::ServeArgs;
use crate::failure::Failure;
use crate::run::{handler_name, modules, proto, template_handler};
use crate::source::{Code, read};

/// The pool serving requests, and the handler's name in it.
pub struct App {
    pub pool: Pool,
    pub handler: String,
}

impl App {
    /// Loads the app `args` name.
    pub fn load(args: &ServeArgs) -> Result<Self, Failure> {
        let builder = args
            .capabilities
            .apply(args.sandbox.builder(&args.limits), None)?
            .log_sink(|level, line| eprintln!("[{level}] {line}"));
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
                let Code::JavaScript(source) = read(path)? else {
                    return Err(Failure::Sandbox(polybox::Error::InvalidArg(format!(
                        "{} is a component: polybox serve serves JavaScript fetch handlers",
                        path.display()
                    ))));
                };
                (
                    from_source(args, proto, backend, &handler, source)?,
                    handler,
                )
            }
            (None, None) => unreachable!("clap requires an app or --template"),
        };
        let pool = pool
            .size(args.pool)
            .strategy(args.strategy.into())
            .limits(args.limits.limits())
            .build()?;
        Ok(Self { pool, handler })
    }
}

/// A pool of `source`'s handler: from a template on wasmtime (each sandbox
/// created in microseconds), else each sandbox loading it.
fn from_source(
    args: &ServeArgs,
    proto: polybox::ProtoJSSandbox,
    backend: Backend,
    handler: &str,
    source: String,
) -> Result<PoolBuilder, Failure> {
    let mut sources = Vec::new();
    for module in modules(&args.modules)? {
        let Code::JavaScript(code) = module.code else {
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
