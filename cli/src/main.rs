//! `polybox`: run a handler in a sandbox from the command line, inspect a
//! component, benchmark.

mod bench;
mod inspect;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run untrusted code in a sandbox.
#[derive(Parser)]
#[command(name = "polybox", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a handler (JavaScript, or a component) once and print its JSON result.
    Run(run::RunArgs),
    /// Print a component's world (imports and exports) as WIT.
    Inspect(inspect::InspectArgs),
    /// Measure cold start and call latency; print a table, optionally write JSON.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Bench(args) => bench::bench(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}: {error}", error.code());
            ExitCode::FAILURE
        }
    }
}
