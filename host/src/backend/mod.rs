//! Backends: the engines that run the guest.
//!
//! The API layer talks to a guest only through [`GuestInstance`], a trait
//! object: the backend is a run-time choice of the builder, one sandbox type
//! serves both, and every engine type stays inside its backend's folder.
//! A backend serves the guest's imports from the sandbox's
//! [`Dispatcher`], and owns what only it can enforce: poisoning (it knows
//! when its engine refuses further entry) and engine budgets.

#[cfg(feature = "hyperlight")]
mod hyperlight;
pub(crate) mod report;
mod sizing;
pub(crate) mod wasmtime;

pub use sizing::MAX_STACK_SIZE;

use std::any::Any;
use std::sync::Arc;

use crate::capability::{ComponentHost, Dispatcher};
use crate::component::WasmComponent;
use crate::config::{Backend, SandboxConfig};
use crate::error::Result;
use crate::monitor::{BudgetSupport, Budgets, InterruptState};
use crate::program::ProgramKind;

/// A backend's capture of guest state, opaque to the API layer.
pub(crate) type GuestImage = Arc<dyn Any + Send + Sync>;

/// Source code in the sandbox's language, or a component: what a handler
/// or module is made of.
pub(crate) enum Source {
    Script(String),
    Component(WasmComponent),
}

/// Handlers and modules to load, as the API layer hands them to a backend.
pub(crate) struct LoadPlan<'a> {
    /// Modules by `(namespace, name)`.
    pub modules: Vec<(&'a str, &'a str, &'a Source)>,
    /// Handlers by name.
    pub handlers: Vec<(&'a str, &'a Source)>,
    /// The load's id in the sandbox's [`InterruptState`].
    pub id: u64,
    pub budgets: Budgets,
}

/// One handler call, as the API layer hands it to a backend.
pub(crate) struct HandlerCall<'a> {
    pub name: &'a str,
    pub event: &'a str,
    pub gc: bool,
    /// The call's id in the sandbox's [`InterruptState`].
    pub id: u64,
    pub budgets: Budgets,
}

/// What a handler call produced.
pub(crate) struct CallOutcome {
    pub result: Result<String>,
    /// Fuel consumed, when the backend meters fuel.
    pub fuel_consumed: Option<u64>,
}

/// A program to run as a fresh process, as the API layer hands it to a
/// backend (the `program` record of `wit/`).
pub(crate) struct ProgramCall<'a> {
    pub source: &'a str,
    pub kind: ProgramKind,
    pub filename: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a str,
    /// The call's id in the sandbox's [`InterruptState`].
    pub id: u64,
    pub budgets: Budgets,
}

/// How a program ended, when it ended by itself.
pub(crate) struct ProgramExit {
    pub code: i32,
    /// The JSON of the value it returned, if any.
    pub value: Option<String>,
}

/// What running a program produced.
pub(crate) struct ProgramOutcome {
    pub result: Result<ProgramExit>,
    /// Fuel consumed, when the backend meters fuel.
    pub fuel_consumed: Option<u64>,
}

/// Converts a [`ProgramCall`] into a backend's `program` record, for
/// bindings whose record is `$program` and whose `program-kind` enum is
/// `$kind`. Each backend's bindings generate their own types.
macro_rules! program_record {
    ($call:expr, $program:ident, $kind:ident) => {{
        let call = &$call;
        $program {
            source: call.source.to_owned(),
            kind: match call.kind {
                $crate::program::ProgramKind::Module => $kind::Module,
                $crate::program::ProgramKind::CommonJs => $kind::Commonjs,
                $crate::program::ProgramKind::Detect => $kind::Detect,
                $crate::program::ProgramKind::Script => $kind::Script,
            },
            filename: call.filename.to_owned(),
            args: call.args.to_vec(),
            env: call.env.to_vec(),
            cwd: call.cwd.to_owned(),
        }
    }};
}
pub(crate) use program_record;

/// One running guest: a JavaScript runtime and what is registered in it.
/// As a [`ComponentHost`] it starts the components capabilities are made of
/// (or refuses, where it cannot run them).
pub(crate) trait GuestInstance: ComponentHost + Send {
    /// Tells the guest every module the dispatcher serves, once the
    /// capabilities are installed: an ES module namespace is fixed when it
    /// is linked, so the guest must know the function names first.
    fn declare_modules(&mut self) -> Result<()>;
    /// Discards all guest state: a fresh runtime with the host modules
    /// declared, and no handlers or modules, components included.
    fn reset(&mut self) -> Result<()>;
    /// Registers the plan's modules, then compiles and evaluates its
    /// handlers (JavaScript) or loads them (components), as one call: a stop
    /// request for `plan.id`, or an exhausted budget, ends it with
    /// `ERR_CANCELLED`.
    fn load(&mut self, plan: LoadPlan<'_>) -> Result<()>;
    /// Calls a handler. A stop request for `call.id` in the sandbox's
    /// interrupt state, or an exhausted budget, ends it with `ERR_CANCELLED`.
    fn call_handler(&mut self, call: HandlerCall<'_>) -> CallOutcome;
    /// Runs a program in the guest as it is (the caller restores the state
    /// it must start from), its streams served by the dispatcher's process.
    /// Stopped like a handler call.
    fn run_program(&mut self, call: ProgramCall<'_>) -> ProgramOutcome;
    /// What poisoned the guest, if it can no longer be entered until it is
    /// restored or reset.
    fn poisoned_by(&self) -> Option<String>;
    /// Which engine budgets calls can be given.
    fn budget_support(&self) -> BudgetSupport;
    /// Captures the guest's state.
    fn snapshot(&mut self) -> Result<GuestImage>;
    /// The guest's state as it started, with its host modules declared and
    /// nothing loaded, for [`restore`](Self::restore): cheaper than a
    /// [`snapshot`](Self::snapshot) where the backend already holds it.
    fn start_image(&mut self) -> Result<GuestImage>;
    /// Replaces the guest's state with a capture, clearing poison. Component
    /// handlers and modules, whose state is not captured, start afresh.
    fn restore(&mut self, image: &GuestImage) -> Result<()>;
}

/// Starts a guest on the configured backend, serving its imports from
/// `dispatcher`: from the backend's own start, or from `start`, a capture
/// (of a sandbox template) that already holds the declared host modules.
/// The backend installs its way of waking a running guest into `interrupt`.
pub(crate) fn instantiate(
    config: &SandboxConfig,
    dispatcher: Arc<Dispatcher>,
    interrupt: Arc<InterruptState>,
    start: Option<&GuestImage>,
) -> Result<Box<dyn GuestInstance>> {
    if start.is_some() {
        templates_supported(config.backend)?;
    }
    match config.backend {
        Backend::Wasmtime => Ok(Box::new(wasmtime::WasmtimeGuest::new(
            config, dispatcher, interrupt, start,
        )?)),
        #[cfg(feature = "hyperlight")]
        Backend::Hyperlight => Ok(Box::new(hyperlight::HyperlightGuest::new(
            config, dispatcher, interrupt,
        )?)),
        #[cfg(not(feature = "hyperlight"))]
        Backend::Hyperlight => Err(crate::Error::HypervisorUnavailable(
            "this build of polybox has no Hyperlight backend (cargo feature `hyperlight`)".into(),
        )),
    }
}

/// Refuses templates on a backend that cannot start a sandbox from another
/// sandbox's capture: Hyperlight, whose snapshots belong to their VM.
pub(crate) fn templates_supported(backend: Backend) -> Result<()> {
    match backend {
        Backend::Wasmtime => Ok(()),
        Backend::Hyperlight => Err(crate::Error::invalid_arg(
            "sandbox templates need the wasmtime backend: a Hyperlight snapshot belongs to the micro-VM that took it and cannot start another",
        )),
    }
}

/// The error for a capture that another backend made.
pub(crate) fn foreign_image() -> crate::Error {
    crate::Error::invalid_arg("the snapshot was taken on another backend")
}

/// What a template file stores of a guest image: the guest's memory.
pub(crate) fn image_bytes(image: &GuestImage) -> Result<&[u8]> {
    wasmtime::image_bytes(image)
}

/// The image of guest memory `bytes`, as [`image_bytes`] gave them.
pub(crate) fn image_from_bytes(bytes: &[u8]) -> Result<GuestImage> {
    wasmtime::image_from_bytes(bytes)
}

/// The SHA-256 (hex) of `language`'s guest, which every image of it
/// depends on.
pub(crate) fn guest_sha256(language: crate::config::Language) -> &'static str {
    wasmtime::guest(language).sha256
}
