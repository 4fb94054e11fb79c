//! Whether this machine can run Hyperlight guests at all, found out once
//! per process by starting one VM.
//!
//! A hypervisor device can be present and still refuse every guest (PVM,
//! some nested virtualisation): `is_hypervisor_present()` says yes, and
//! the first VM dies at its first instructions. Starting a real VM is the
//! only honest test. It runs on its own thread, so a hypervisor that hangs
//! instead of failing costs at most [`PROBE_TIMEOUT`].

use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use super::errors::unavailable;
use crate::error::{Error, Result};

/// How long the probe VM may take to start. Under software emulation a
/// start takes a second or two; a healthy hypervisor takes milliseconds.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// `Ok` when Hyperlight guests run here; otherwise
/// `ERR_HYPERVISOR_UNAVAILABLE` with the reason.
pub(super) fn usable() -> Result<()> {
    static VERDICT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    VERDICT
        .get_or_init(probe)
        .clone()
        .map_err(Error::HypervisorUnavailable)
}

fn probe() -> std::result::Result<(), String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("polybox-hyperlight-probe".into())
        .spawn(move || {
            let started = hyperlight_wasm::SandboxBuilder::new()
                .build()
                .and_then(|proto| proto.load_runtime())
                .map(drop)
                .map_err(|e| unavailable(&e));
            let _ = sender.send(started);
        })
        .map_err(|e| format!("cannot start the probe thread: {e}"))?;
    match receiver.recv_timeout(PROBE_TIMEOUT) {
        Ok(verdict) => verdict,
        Err(_) => Err(format!(
            "a probe VM did not start within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
    }
}
