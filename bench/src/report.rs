//! The benchmark's output: a table on stdout and the same data as JSON.

use std::fmt::Write;

use serde::Serialize;

use crate::stats::Summary;

/// The unit a measurement is expressed in.
#[derive(Debug, Clone, Copy, Serialize)]
pub enum Unit {
    /// Microseconds per operation.
    #[serde(rename = "µs")]
    Micros,
    /// A ratio to a baseline.
    #[serde(rename = "×")]
    Ratio,
}

impl Unit {
    fn label(self) -> &'static str {
        match self {
            Self::Micros => "µs",
            Self::Ratio => "×",
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
}

/// Everything one benchmark run measured.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Where it ran.
    pub machine: String,
    /// `"quick"` or `"full"`.
    pub mode: &'static str,
    /// The measurements, in order.
    pub measurements: Vec<Measurement>,
}

impl Report {
    /// The report as an aligned text table.
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "group".to_owned(),
            "measurement".to_owned(),
            "median".to_owned(),
            "p99".to_owned(),
            "min–max of runs".to_owned(),
            "samples".to_owned(),
        ]];
        for m in &self.measurements {
            let unit = m.unit.label();
            let s = m.summary;
            rows.push([
                m.group.to_owned(),
                m.name.clone(),
                format!("{} {unit}", fmt(s.median)),
                format!("{} {unit}", fmt(s.p99)),
                format!("{}–{} {unit}", fmt(s.min), fmt(s.max)),
                s.samples.to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..6)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = format!("polybox bench ({}) on {}\n", self.mode, self.machine);
        for (i, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c < 2 {
                    let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
                } else {
                    let _ = write!(out, "{}{cell}  ", " ".repeat(pad));
                }
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
            if i == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 10));
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
