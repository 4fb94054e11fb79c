//! `polybox template build`: a handler and its modules loaded once and
//! written to a file that `polybox run --template` serves from, in any
//! process, with nothing compiled or evaluated.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use polybox::Template;

use crate::failure::{EXIT_CODES, Failure};
use crate::run::{handler_name, modules, proto};
use crate::sandbox_args::{LimitArgs, SandboxArgs};
use crate::source::{Code, read};

/// What `polybox template` does.
#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Load a handler (and its modules) and write the sandbox to a file.
    #[command(after_help = EXIT_CODES)]
    Build(BuildArgs),
}

/// Arguments of `polybox template build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The handler: an ES module defining a function named `handler`. Its
    /// file name is its name in the template.
    handler: PathBuf,
    /// A JavaScript module the handler may import, as
    /// `NAMESPACE:NAME=FILE` (or `NAME=FILE` for `user`). Repeatable.
    #[arg(long = "module", value_name = "NS:NAME=FILE")]
    modules: Vec<String>,
    /// A component whose exports guests import as `host:NAME`, as
    /// `NAME=FILE`; give it again to `polybox run --template`. Repeatable.
    #[arg(long = "host-component", value_name = "NAME=FILE")]
    host_components: Vec<String>,
    /// Where to write the template.
    #[arg(short, long, value_name = "FILE.pbx")]
    output: PathBuf,
    /// Bound the handler's top-level code, which loading runs.
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// Runs a `polybox template` command.
pub fn template(command: TemplateCommand) -> Result<(), Failure> {
    match command {
        TemplateCommand::Build(args) => build(args),
    }
}

fn build(mut args: BuildArgs) -> Result<(), Failure> {
    args.sandbox.language_of(&args.handler);
    let builder = args
        .sandbox
        .builder(&args.limits)
        .log_sink(|level, line| eprintln!("[{level}] {line}"));
    let mut template =
        Template::builder(proto(builder, &args.host_components)?).load_limits(args.limits.limits());
    for module in modules(&args.modules)? {
        let Code::Script(source) = module.code else {
            return Err(source_only("module", &module.name));
        };
        template = template.module(&module.name, source, module.namespace.as_deref());
    }
    let name = handler_name(&args.handler);
    let Code::Script(source) = read(&args.handler)? else {
        return Err(source_only("handler", &name));
    };
    template
        .handler(&name, source)
        .build()?
        .save(&args.output)?;
    eprintln!("wrote {} (handler {name:?})", args.output.display());
    Ok(())
}

fn source_only(what: &str, name: &str) -> Failure {
    Failure::Sandbox(polybox::Error::InvalidArg(format!(
        "the {what} {name:?} is a component: templates hold source code only (a component's state is outside the guest memory a template captures)"
    )))
}
