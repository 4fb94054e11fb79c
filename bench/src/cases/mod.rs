//! The measurements, one concept per file.

pub mod calls;
pub mod cold_start;
pub mod limits;
pub mod snapshots;
