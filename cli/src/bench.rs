//! `polybox bench`: the benchmark harness (`bench/`).

use std::path::PathBuf;

use clap::Args;
use polybox::Backend;
use polybox_bench::{Options, run};

use crate::failure::Failure;

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

/// Runs the benchmark, prints the table and writes the JSON. The JSON file
/// is opened before the run, so a bad path fails at once, not minutes later.
pub fn bench(args: BenchArgs) -> Result<(), Failure> {
    let cannot_write = |path: &PathBuf, e: std::io::Error| {
        Failure::File(format!("cannot write {}: {e}", path.display()))
    };
    let output = args
        .json
        .as_ref()
        .map(|path| {
            std::fs::File::create(path)
                .map_err(|e| cannot_write(path, e))
                .map(|file| (path, file))
        })
        .transpose()?;
    let report = run(Options {
        quick: args.quick,
        backend: args.backend,
        // This command serves MCP too: its round trip is measured.
        polybox: std::env::current_exe().ok(),
    })?;
    print!("{}", report.table());
    if let Some((path, mut file)) = output {
        let json = serde_json::to_string_pretty(&report).expect("reports serialise");
        std::io::Write::write_all(&mut file, (json + "\n").as_bytes())
            .map_err(|e| cannot_write(path, e))?;
    }
    Ok(())
}
