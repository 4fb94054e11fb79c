//! [`Provider`]: what serves the calls to one module guests import.

use super::host_functions::CallContext;

/// Serves the functions of one module a guest imports (`host:math`,
/// `user:textkit`): arguments and results cross as JSON text. Lives for as
/// long as the sandbox (or, for modules loaded with handlers, until they are
/// unloaded), so its state is host state: snapshots never capture it.
pub(crate) trait Provider: Send + Sync {
    /// The module's function names, as guests call them. An ES module
    /// namespace is fixed when it is linked, so the guest learns them first.
    fn functions(&self) -> Vec<String>;

    /// Calls `function` with `args`, a JSON array, for the call `context`
    /// describes; returns the JSON result.
    fn call(
        &self,
        function: &str,
        args: &str,
        context: &CallContext<'_>,
    ) -> Result<String, HostCallError>;

    /// Forgets state that belongs to the guest rather than to the host, so
    /// that the next call starts afresh (component modules, after a restore).
    fn discard_guest_state(&self) {}
}

/// How a host call failed, as the guest sees it (the `call-error` variant of
/// `wit/`): each backend converts it to its bindings' type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostCallError {
    /// The function failed, or there is no such function or module.
    Failed(String),
    /// The arguments do not fit the function's parameter types.
    TypeMismatch(String),
}
