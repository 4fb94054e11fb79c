//! `polybox`: run a handler in a sandbox from the command line.

mod bench;
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
    /// Run a JavaScript handler once and print its JSON result.
    Run(run::RunArgs),
    /// Measure cold start and call latency; print a table, optionally write JSON.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
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
