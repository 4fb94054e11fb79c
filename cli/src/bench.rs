//! `polybox bench`: the benchmark harness (`bench/`).

use std::path::PathBuf;

use clap::Args;
use polybox::{Backend, Error, Result};
use polybox_bench::{Options, run};

/// Arguments of `polybox bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// A short run for CI; it never fails on a number.
    #[arg(long)]
    quick: bool,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The backend to measure: `wasmtime` (everything) or `hyperlight`
    /// (cold start, calls, snapshots and kills, in a micro-VM).
    #[arg(long, default_value = "wasmtime")]
    backend: Backend,
}

/// Runs the benchmark, prints the table and writes the JSON.
pub fn bench(args: BenchArgs) -> Result<()> {
    let report = run(Options {
        quick: args.quick,
        backend: args.backend,
    })?;
    print!("{}", report.table());
    if let Some(path) = args.json {
        let json = serde_json::to_string_pretty(&report).expect("reports serialise");
        std::fs::write(&path, json + "\n")
            .map_err(|e| Error::InvalidArg(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
