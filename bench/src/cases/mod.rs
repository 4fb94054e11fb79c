//! The measurements, one concept per file. Each takes a [`Plan`](crate::Plan)
//! for how long to run and returns rows for the report.

pub mod calls;
pub mod cold_start;
pub mod components;
pub mod compute;
pub mod density;
pub mod lifecycle;
pub mod limits;
pub mod snapshots;
pub mod throughput;
