//! Programs: `Runtime::exec` as a fresh process on a warm runtime, a new
//! runtime to its first output, and the memory of idle runtimes.

use polybox::{Backend, ExecOptions, Runtime, SandboxBuilder};

use super::density::{rss_mib, shared_mib};
use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, Summary, latency_us};

/// The program the latency rows run.
const HELLO: &str = "console.log('hi')";

fn runtime(backend: Backend) -> Runtime {
    Runtime::builder()
        .sandbox(SandboxBuilder::new().backend(backend))
        .build()
        .unwrap()
}

fn hello(runtime: &mut Runtime) {
    let output = runtime.exec(HELLO, ExecOptions::default()).unwrap();
    assert_eq!(output.stdout, b"hi\n");
}

/// Warm exec, exec with a timer, a new runtime to its first output.
pub fn measure(backend: Backend, calls: Plan, cold: Plan) -> Vec<Measurement> {
    let row = |name: &str, summary| Measurement::new("programs", name, Unit::Micros, summary);
    let mut warm = runtime(backend);
    let exec = latency_us(calls, || hello(&mut warm));
    let timer = latency_us(calls, || {
        warm.exec(
            "setTimeout(() => console.log('hi'), 1)",
            ExecOptions::default(),
        )
        .unwrap()
    });
    drop(runtime(backend));
    let first = latency_us(cold, || {
        let mut runtime = runtime(backend);
        hello(&mut runtime);
        runtime
    });
    vec![
        row("exec console.log('hi'), warm runtime", exec).target(Target::AtMost(30.0)),
        row("exec with a 1 ms timer, warm runtime", timer),
        row("new runtime to first output", first).target(Target::AtMost(150.0)),
    ]
}

/// The memory of 100 idle runtimes that each ran one program, per
/// runtime: resident-set growth, and the part of it that is the runtime's
/// own (the rest are pages of the shared program image, which the kernel
/// counts once per runtime that maps them but holds once).
pub fn density() -> Vec<Measurement> {
    drop(runtime(Backend::Wasmtime));
    let (rss, shared) = (rss_mib(), shared_mib());
    let runtimes: Vec<Runtime> = (0..100)
        .map(|_| {
            let mut runtime = runtime(Backend::Wasmtime);
            hello(&mut runtime);
            runtime
        })
        .collect();
    let count = runtimes.len() as f64;
    let grown = (rss_mib() - rss) / count;
    let private = grown - (shared_mib() - shared) / count;
    drop(runtimes);
    let once = |value: f64| Summary::of_runs(vec![value]);
    vec![
        Measurement::new(
            "programs",
            "RSS per idle runtime",
            Unit::Mebibytes,
            once(grown),
        ),
        Measurement::new(
            "programs",
            "private memory per idle runtime",
            Unit::Mebibytes,
            once(private),
        )
        .target(Target::AtMost(1.0)),
    ]
}
