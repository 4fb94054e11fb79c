//! `polybox`: run a handler or a program in a sandbox from the command
//! line, serve HTTP, inspect a component, print the WIT package, benchmark.

mod bench;
mod call;
mod capability_args;
mod exec;
mod failure;
mod inspect;
mod mcp;
mod run;
mod sandbox_args;
mod serve;
mod size;
mod source;
mod template;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::{EXIT_CODES, Failure};

/// Run untrusted code in a sandbox.
#[derive(Parser)]
#[command(name = "polybox", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a handler (JavaScript, or a component) and print its JSON result.
    Run(Box<run::RunArgs>),
    /// Run a program as Node.js would (a file, or -e CODE), with its stdio,
    /// and exit with its exit code.
    Exec(Box<exec::ExecArgs>),
    /// Build sandbox templates: a handler loaded once, started from a file.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Call a function of a script by name (isola's model): positional and
    /// keyword arguments as JSON; a generator's values print as yielded.
    Call(Box<call::CallArgs>),
    /// Print a component's world (imports and exports) as WIT.
    Inspect(inspect::InspectArgs),
    /// Print the WIT package components are written against (`polybox:sandbox`).
    Wit,
    /// Measure cold start and call latency; print a table, optionally write JSON.
    Bench(bench::BenchArgs),
    /// Serve HTTP: each request answered by a sandbox's `fetch` handler,
    /// from a pool of the app's template.
    Serve(Box<serve::ServeArgs>),
    /// Serve MCP (stdio, or Streamable HTTP): an `execute_javascript` tool
    /// for AI agents, safe by default.
    Mcp(Box<mcp::McpArgs>),
}

/// `wit/sandbox.wit`, the contract of every sandbox.
const SANDBOX_WIT: &str = include_str!("../../wit/sandbox.wit");

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version are successes; usage errors exit with 2.
        Err(error) => error.exit(),
    };
    let outcome = match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Exec(args) => match exec::exec(*args) {
            Ok(code) => return ExitCode::from(code),
            Err(failure) => Err(failure),
        },
        Command::Template(command) => template::template(command),
        Command::Call(args) => call::call(*args),
        Command::Inspect(args) => inspect::inspect(args).map_err(Failure::from),
        Command::Wit => {
            print!("{SANDBOX_WIT}");
            Ok(())
        }
        Command::Bench(args) => bench::bench(args),
        Command::Serve(args) => serve::serve(*args),
        Command::Mcp(args) => mcp::mcp(*args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
