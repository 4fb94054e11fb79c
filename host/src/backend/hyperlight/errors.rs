//! Hyperlight's errors as API errors.

use hyperlight_wasm::HyperlightError;

use crate::error::Error;

/// Classifies an error from a call into the VM (the bindings wrap
/// Hyperlight's errors). `stop` is why the call was told to stop, if it
/// was (a kill cancels the vCPU).
pub(super) fn from_vm(error: anyhow::Error, stop: Option<&'static str>) -> Error {
    let error = match error.downcast::<HyperlightError>() {
        Ok(error) => error,
        Err(other) => return Error::GuestAbort(format!("the VM failed: {other:#}")),
    };
    match error {
        HyperlightError::ExecutionCanceledByHost() => Error::Cancelled(stop.unwrap_or("killed")),
        HyperlightError::GuestAborted(code, message) => {
            Error::GuestAbort(format!("the guest aborted (code {code}): {message}"))
        }
        HyperlightError::PoisonedSandbox => {
            Error::Poisoned("an earlier call left the VM unusable".into())
        }
        other => Error::GuestAbort(format!("the VM failed: {other}")),
    }
}

/// Why a VM cannot start here, for `ERR_HYPERVISOR_UNAVAILABLE`.
pub(super) fn unavailable(error: &HyperlightError) -> String {
    let detail = format!("{error:?}");
    match error {
        HyperlightError::NoHypervisorFound() => {
            "no hypervisor is present (Hyperlight needs /dev/kvm or /dev/mshv)".into()
        }
        _ if detail.contains("UnexpectedVmExit") => format!(
            "the hypervisor rejected the guest at its first instructions ({detail}); \
             this happens under PVM and other nested virtualisation without SSE support at CPL0"
        ),
        _ => format!("the VM failed to start: {error}"),
    }
}
