//! Network rules from the documented grammar against URLs a hostile guest
//! builds (hosts in every spelling, userinfo, hosts spelled inside paths,
//! dot segments plain and encoded, raw bytes): the policy's decision must
//! be exactly what an oracle written apart from the crate says
//! (`tests/src/net_oracle.rs`, shared with the test suite's seeded run).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/src/net_oracle.rs"]
mod net_oracle;

fuzz_target!(|data: &[u8]| net_oracle::check(data));
