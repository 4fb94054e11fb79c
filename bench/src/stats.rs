//! Summaries of timing samples: median and p99 over every sample, and the
//! min–max range of the per-run medians (how much runs disagree).

use std::time::{Duration, Instant};

use serde::Serialize;

/// A summarised measurement, in the unit of its [`Measurement`](crate::Measurement).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    /// Median of all samples.
    pub median: f64,
    /// 99th percentile of all samples.
    pub p99: f64,
    /// Smallest per-run median.
    pub min: f64,
    /// Largest per-run median.
    pub max: f64,
    /// Number of samples.
    pub samples: usize,
}

impl Summary {
    /// A summary of one value per run (for measurements that are not
    /// per-operation latencies, such as throughput or memory).
    pub fn of_runs(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Self {
            median: percentile(&values, 0.5),
            p99: percentile(&values, 0.99),
            min: values[0],
            max: values[values.len() - 1],
            samples: values.len(),
        }
    }

    /// The difference between two summaries of the same operation, figure
    /// by figure: the cost something adds.
    pub fn minus(self, base: Summary) -> Self {
        let (low, high) = (self.min - base.min, self.max - base.max);
        Self {
            median: self.median - base.median,
            p99: self.p99 - base.p99,
            min: low.min(high),
            max: low.max(high),
            samples: self.samples,
        }
    }

    /// Each figure divided by `n`: the cost of one of `n` operations.
    pub fn divided_by(self, n: f64) -> Self {
        Self {
            median: self.median / n,
            p99: self.p99 / n,
            min: self.min / n,
            max: self.max / n,
            samples: self.samples,
        }
    }

    /// Each figure divided by `base`'s median: a slowdown.
    pub fn ratio_to(self, base: Summary) -> Self {
        Self {
            median: self.median / base.median,
            p99: self.p99 / base.median,
            min: self.min / base.median,
            max: self.max / base.median,
            samples: self.samples,
        }
    }

    /// The rate at which `bytes` pass in each figure's time (µs), in MB/s:
    /// the median's rate, the slowest (p99) time's, the runs' range.
    pub fn throughput(self, bytes: f64) -> Self {
        Self {
            median: bytes / self.median,
            p99: bytes / self.p99,
            min: bytes / self.max,
            max: bytes / self.min,
            samples: self.samples,
        }
    }

    /// Summary of `runs`, each a list of samples.
    pub fn of_samples(runs: Vec<Vec<f64>>) -> Self {
        let mut medians = Vec::with_capacity(runs.len());
        let mut all = Vec::new();
        for mut run in runs {
            run.sort_by(f64::total_cmp);
            medians.push(percentile(&run, 0.5));
            all.extend(run);
        }
        all.sort_by(f64::total_cmp);
        medians.sort_by(f64::total_cmp);
        Self {
            median: percentile(&all, 0.5),
            p99: percentile(&all, 0.99),
            min: medians[0],
            max: medians[medians.len() - 1],
            samples: all.len(),
        }
    }
}

/// The `q` quantile of sorted `values` (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// How many runs and operations per run a latency measurement takes.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Untimed operations before the first run.
    pub warmup: usize,
    /// Timed runs.
    pub runs: usize,
    /// Timed operations per run.
    pub per_run: usize,
}

/// Times `op` individually `plan.runs × plan.per_run` times, in microseconds.
/// What `op` returns is dropped after the clock stops, so tearing down what it
/// built is not counted.
pub fn latency_us<T>(plan: Plan, mut op: impl FnMut() -> T) -> Summary {
    for _ in 0..plan.warmup {
        drop(op());
    }
    let runs = (0..plan.runs)
        .map(|_| {
            (0..plan.per_run)
                .map(|_| {
                    let start = Instant::now();
                    let output = op();
                    let elapsed = micros(start.elapsed());
                    drop(output);
                    elapsed
                })
                .collect()
        })
        .collect();
    Summary::of_samples(runs)
}

/// A duration in microseconds.
pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Runs `op` repeatedly for `duration` and returns how many times per second
/// it ran.
pub fn per_second(duration: std::time::Duration, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration {
        op();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}
