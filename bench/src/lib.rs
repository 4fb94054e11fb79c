//! The Polybox benchmark harness: `polybox bench` measures, prints a table
//! and writes JSON. What each measurement times, how it warms up and how many
//! runs it takes is described in `bench/README.md`.

mod cases;
mod report;
mod stats;

use std::time::Duration;

use polybox::{Backend, Result, SandboxBuilder};
pub use report::{Measurement, Report, Target, Unit};
pub use stats::Summary;

use stats::Plan;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A short run for CI (well under a minute); figures are noisier.
    pub quick: bool,
    /// The backend measured. Hyperlight gets the subset that applies to it
    /// (cold start, warm calls, snapshots, kill latency), without targets:
    /// those are set for the in-process backend.
    pub backend: Backend,
    /// The `polybox` command, to measure its MCP server (`polybox mcp`);
    /// not measured when `None`.
    pub polybox: Option<std::path::PathBuf>,
}

/// Runs every measurement; `ERR_HYPERVISOR_UNAVAILABLE` when the backend
/// cannot run here.
pub fn run(options: Options) -> Result<Report> {
    let Options {
        quick,
        backend,
        polybox,
    } = options;
    SandboxBuilder::new()
        .backend(backend)
        .build()?
        .load_runtime()?;
    let calls = if quick {
        Plan {
            warmup: 500,
            runs: 3,
            per_run: 1_000,
        }
    } else {
        Plan {
            warmup: 5_000,
            runs: 10,
            per_run: 10_000,
        }
    };
    let cold = if quick {
        Plan {
            warmup: 50,
            runs: 3,
            per_run: 50,
        }
    } else {
        Plan {
            warmup: 200,
            runs: 10,
            per_run: 200,
        }
    };
    let first = if quick {
        Plan {
            warmup: 1,
            runs: 3,
            per_run: 3,
        }
    } else {
        Plan {
            warmup: 2,
            runs: 5,
            per_run: 10,
        }
    };
    let heavy = if quick {
        Plan {
            warmup: 1,
            runs: 3,
            per_run: 2,
        }
    } else {
        Plan {
            warmup: 3,
            runs: 10,
            per_run: 5,
        }
    };
    let kill = if quick {
        Plan {
            warmup: 0,
            runs: 3,
            per_run: 20,
        }
    } else {
        Plan {
            warmup: 0,
            runs: 10,
            per_run: 100,
        }
    };
    // A VM call, restore and kill cost far more than in process (much more
    // again under emulation): fewer samples keep the run short.
    let calls = match backend {
        Backend::Wasmtime => calls,
        Backend::Hyperlight => Plan {
            warmup: 20,
            runs: kill.runs,
            per_run: kill.per_run,
        },
    };
    let (runs, span) = if quick {
        (3, Duration::from_millis(200))
    } else {
        (5, Duration::from_secs(1))
    };

    let wasmtime = backend == Backend::Wasmtime;
    type Step = Box<dyn FnOnce() -> Vec<Measurement>>;
    let mcp = Plan {
        warmup: 20,
        runs: 3,
        per_run: if quick { 100 } else { 500 },
    };
    let steps: [(&str, bool, Step); 17] = [
        (
            "cold start",
            true,
            Box::new(move || cases::cold_start::measure(backend, cold, first)),
        ),
        (
            "warm calls",
            true,
            Box::new(move || cases::calls::measure(backend, calls)),
        ),
        (
            "components",
            wasmtime,
            Box::new(move || cases::components::measure(calls)),
        ),
        (
            "snapshots",
            true,
            Box::new(move || cases::snapshots::measure(backend, calls)),
        ),
        (
            "monitor overhead",
            wasmtime,
            Box::new(move || cases::limits::monitor_overhead(calls)),
        ),
        (
            "kill latency",
            true,
            Box::new(move || vec![cases::limits::kill_latency(backend, kill)]),
        ),
        (
            "compute",
            wasmtime,
            Box::new(move || cases::compute::measure(heavy)),
        ),
        (
            "throughput",
            wasmtime,
            Box::new(move || cases::throughput::measure(runs, span)),
        ),
        (
            "lifecycle",
            wasmtime,
            Box::new(move || cases::lifecycle::measure(runs, span)),
        ),
        (
            "density",
            wasmtime,
            Box::new(move || cases::density::measure(!quick)),
        ),
        (
            "programs",
            true,
            // A new VM per sample costs far more than a new instance.
            Box::new(move || {
                cases::programs::measure(backend, calls, if wasmtime { cold } else { first })
            }),
        ),
        (
            "templates",
            wasmtime,
            Box::new({
                let polybox = polybox.clone();
                move || cases::templates::measure(calls, first, polybox.as_deref())
            }),
        ),
        (
            "pools",
            wasmtime,
            Box::new(move || cases::pools::measure(calls, cold, runs, span)),
        ),
        (
            "program density",
            wasmtime,
            Box::new(cases::programs::density),
        ),
        (
            "python",
            wasmtime,
            Box::new(move || cases::python::measure(calls, cold, heavy)),
        ),
        (
            "serving",
            wasmtime && polybox.is_some(),
            Box::new({
                let polybox = polybox.clone();
                move || {
                    polybox
                        .map(|polybox| cases::serving::measure(&polybox, quick))
                        .unwrap_or_default()
                }
            }),
        ),
        (
            "mcp",
            wasmtime && polybox.is_some(),
            Box::new(move || {
                polybox
                    .map(|polybox| cases::mcp::measure(&polybox, mcp))
                    .unwrap_or_default()
            }),
        ),
    ];
    let mut measurements = Vec::new();
    for (name, applies, measure) in steps {
        if applies {
            eprintln!("polybox bench: {name}");
            measurements.extend(measure());
        }
    }
    if !wasmtime {
        measurements.iter_mut().for_each(Measurement::untargeted);
    }
    Ok(Report {
        machine: machine(),
        emulated: emulated(),
        mode: if quick { "quick" } else { "full" },
        backend: backend.name(),
        measurements,
    })
}

/// Whether this CPU is emulated in software (QEMU's TCG names itself in
/// the hypervisor CPUID leaf): such figures say nothing about hardware.
fn emulated() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        let in_vm = __cpuid(1).ecx & (1 << 31) != 0;
        let leaf = __cpuid(0x4000_0000);
        let vendor: Vec<u8> = [leaf.ebx, leaf.ecx, leaf.edx]
            .iter()
            .flat_map(|word| word.to_le_bytes())
            .collect();
        in_vm && vendor == b"TCGTCGTCGTCG"
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
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
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(String::new(), |kb| {
            format!(", {:.0} GiB", kb / 1024.0 / 1024.0)
        });
    format!("{cpu}, {cores} cores{memory}")
}
