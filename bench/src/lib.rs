//! The Polybox benchmark harness: `polybox bench` measures, prints a table
//! and writes JSON. Methods are described in `bench/README.md`.

mod cases;
mod report;
mod stats;

pub use report::{Measurement, Report, Unit};
pub use stats::Summary;

use stats::Plan;

/// What to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// A short run for CI (well under a minute); figures are noisier.
    pub quick: bool,
}

/// Runs every measurement.
pub fn run(options: Options) -> Report {
    let (calls, cold) = if options.quick {
        (
            Plan {
                warmup: 200,
                runs: 3,
                per_run: 1_000,
            },
            Plan {
                warmup: 5,
                runs: 3,
                per_run: 20,
            },
        )
    } else {
        (
            Plan {
                warmup: 2_000,
                runs: 10,
                per_run: 10_000,
            },
            Plan {
                warmup: 20,
                runs: 10,
                per_run: 100,
            },
        )
    };
    let mut measurements = vec![cases::cold_start::measure(cold)];
    measurements.extend(cases::calls::measure(calls));
    measurements.extend(cases::limits::monitor_overhead(calls));
    measurements.extend(cases::snapshots::measure(calls));
    measurements.extend(cases::limits::compute(cold));
    measurements.push(cases::limits::kill_latency(cold));
    Report {
        machine: machine(),
        mode: if options.quick { "quick" } else { "full" },
        measurements,
    }
}

/// A one-line description of this machine.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}
