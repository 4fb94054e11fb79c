//! The benchmark's output: a table on stdout and the same data as JSON.

use std::fmt::Write;

use serde::Serialize;

use crate::stats::Summary;

/// The unit a measurement is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Unit {
    /// Microseconds per operation.
    #[serde(rename = "µs")]
    Micros,
    /// A ratio to a baseline.
    #[serde(rename = "×")]
    Ratio,
    /// Operations per second.
    #[serde(rename = "calls/s")]
    PerSecond,
    /// Mebibytes.
    #[serde(rename = "MiB")]
    Mebibytes,
    /// Megabytes (10^6 bytes) per second.
    #[serde(rename = "MB/s")]
    MegabytesPerSecond,
}

impl Unit {
    fn label(self) -> &'static str {
        match self {
            Self::Micros => "µs",
            Self::Ratio => "×",
            Self::PerSecond => "/s",
            Self::Mebibytes => "MiB",
            Self::MegabytesPerSecond => "MB/s",
        }
    }
}

/// A goal a measurement is held to.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The median should be at most this.
    AtMost(f64),
    /// The median should be at least this.
    AtLeast(f64),
    /// The 99th percentile should be at most this.
    P99AtMost(f64),
}

impl Target {
    fn met(self, summary: &Summary) -> bool {
        match self {
            Self::AtMost(limit) => summary.median <= limit,
            Self::AtLeast(floor) => summary.median >= floor,
            Self::P99AtMost(limit) => summary.p99 <= limit,
        }
    }

    fn describe(self, unit: Unit) -> String {
        match self {
            Self::AtMost(limit) => format!("≤ {} {}", fmt(limit), unit.label()),
            Self::AtLeast(floor) => format!("≥ {} {}", fmt(floor), unit.label()),
            Self::P99AtMost(limit) => format!("p99 ≤ {} {}", fmt(limit), unit.label()),
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// What area it belongs to, e.g. `"calls"`.
    pub group: &'static str,
    /// What was measured.
    pub name: String,
    /// The unit of every figure.
    pub unit: Unit,
    /// The figures.
    #[serde(flatten)]
    pub summary: Summary,
    /// The goal, if there is one.
    pub target: Option<Target>,
    /// Whether the median meets the goal.
    pub met: Option<bool>,
}

impl Measurement {
    /// A measurement without a target.
    pub fn new(group: &'static str, name: impl Into<String>, unit: Unit, summary: Summary) -> Self {
        Self {
            group,
            name: name.into(),
            unit,
            summary,
            target: None,
            met: None,
        }
    }

    /// The same measurement held to no target.
    pub fn untargeted(&mut self) {
        self.target = None;
        self.met = None;
    }

    /// The same measurement held to `target`.
    pub fn target(mut self, target: Target) -> Self {
        self.met = Some(target.met(&self.summary));
        self.target = Some(target);
        self
    }
}

/// Everything one benchmark run measured.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Where it ran.
    pub machine: String,
    /// `"quick"` or `"full"`.
    pub mode: &'static str,
    /// The backend measured: `"wasmtime"` or `"hyperlight"`.
    pub backend: &'static str,
    /// Whether the CPU was emulated in software (QEMU TCG): such figures
    /// are not comparable with any measured on hardware.
    pub emulated: bool,
    /// The measurements, in order.
    pub measurements: Vec<Measurement>,
}

impl Report {
    /// The report as an aligned text table.
    pub fn table(&self) -> String {
        let header = [
            "group",
            "measurement",
            "median",
            "p99",
            "min–max of runs",
            "samples",
            "target",
        ];
        let mut rows = vec![header.map(str::to_owned)];
        for m in &self.measurements {
            let unit = m.unit.label();
            let s = m.summary;
            let target = match (m.target, m.met) {
                (Some(target), Some(met)) => format!(
                    "{} {}",
                    target.describe(m.unit),
                    if met { "met" } else { "MISSED" }
                ),
                _ => String::new(),
            };
            rows.push([
                m.group.to_owned(),
                m.name.clone(),
                format!("{} {unit}", fmt(s.median)),
                format!("{} {unit}", fmt(s.p99)),
                format!("{}–{} {unit}", fmt(s.min), fmt(s.max)),
                s.samples.to_string(),
                target,
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = format!(
            "polybox bench ({}, {}) on {}\n",
            self.mode, self.backend, self.machine
        );
        if self.emulated {
            out.push_str(
                "EMULATED CPU (QEMU TCG): these figures are not comparable with native ones\n",
            );
        }
        for (i, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[c] - cell.chars().count());
                if c < 2 || c == header.len() - 1 {
                    let _ = write!(out, "{cell}{pad}  ");
                } else {
                    let _ = write!(out, "{pad}{cell}  ");
                }
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
            if i == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
                out.push('\n');
            }
        }
        out
    }
}

/// Three significant figures, without exponent noise.
fn fmt(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
