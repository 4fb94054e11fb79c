//! Throughput: echo calls per second on 1 and 2 threads, each thread with
//! its own sandbox.

use std::time::Duration;

use polybox::SandboxBuilder;

use super::{ECHO, EVENT, loaded};
use crate::report::{Measurement, Unit};
use crate::stats::{Summary, per_second};

/// Calls per second, summed over `threads`, over `runs` runs of `duration`.
fn rate(threads: usize, runs: usize, duration: Duration) -> Summary {
    let samples = (0..runs)
        .map(|_| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    std::thread::spawn(move || {
                        let mut loaded = loaded(SandboxBuilder::new(), &[("echo", ECHO)]);
                        per_second(duration, || {
                            loaded.handle_event("echo", EVENT, None).unwrap();
                        })
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        })
        .collect();
    Summary::of_runs(samples)
}

/// Echo calls per second with one and with two threads.
pub fn measure(runs: usize, duration: Duration) -> Vec<Measurement> {
    vec![
        Measurement::new(
            "throughput",
            "echo calls, 1 thread",
            Unit::PerSecond,
            rate(1, runs, duration),
        ),
        Measurement::new(
            "throughput",
            "echo calls, 2 threads",
            Unit::PerSecond,
            rate(2, runs, duration),
        ),
    ]
}
