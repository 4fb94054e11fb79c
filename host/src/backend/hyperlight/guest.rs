//! One sandbox's guest on Hyperlight: the JS guest in a micro-VM.

use std::sync::{Arc, Weak};
use std::time::Duration;

use hyperlight_wasm::{HyperlightError, InterruptHandle, LoadedWasmSandbox, Snapshot};

use super::bindings::polybox::sandbox::Runtime;
use super::bindings::polybox::sandbox::runtime::HostModule;
use super::bindings::polybox::sandbox::types::{ErrorKind, GuestError};
use super::bindings::{JsRuntimeSandbox, register_host_functions};
use super::errors::from_vm;
use super::image::image;
use super::imports::Imports;
use super::probe::usable;
use crate::backend::report::guest_report;
use crate::backend::sizing::hyperlight_scratch;
use crate::backend::{
    CallOutcome, GuestImage, GuestInstance, HandlerCall, HostEnv, LoadPlan, Source,
};
use crate::config::SandboxConfig;
use crate::error::{Error, Result};
use crate::host_fn::HostFunctions;
use crate::monitor::{BudgetSupport, InterruptState};

/// Heap of the guest engine itself (its own allocations, not the JS heap).
const RUNTIME_HEAP: u64 = 32 * 1024 * 1024;

/// Room in Hyperlight's buffers beyond an event or result, for framing.
const BUFFER_FRAMING: usize = 64 * 1024;

/// How often a kill that found the vCPU not running (the call not started
/// yet, or in a host function) is tried again.
const KILL_RETRY: Duration = Duration::from_micros(200);

type Vm = JsRuntimeSandbox<Imports, LoadedWasmSandbox>;

/// The JS guest in a Hyperlight micro-VM.
pub(crate) struct HyperlightGuest {
    vm: Vm,
    /// The guest as loaded: started, stack limit set, host modules declared.
    fresh: Arc<Snapshot>,
    interrupt: Arc<InterruptState>,
    /// Why the VM can no longer be entered, once a call left it unusable.
    poisoned_by: Option<String>,
}

impl HyperlightGuest {
    /// Starts a VM, loads the guest into it and declares the host modules.
    /// Fails with `ERR_HYPERVISOR_UNAVAILABLE` where VMs cannot run.
    pub fn new(
        config: &SandboxConfig,
        env: Arc<HostEnv>,
        interrupt: Arc<InterruptState>,
    ) -> Result<Self> {
        usable()?;
        if !env.components.is_empty() {
            return Err(components_unsupported());
        }
        let failed = |e: HyperlightError| Error::Internal(format!("cannot start the VM: {e}"));
        let failed_call = |e: anyhow::Error| Error::Internal(format!("cannot start the VM: {e:#}"));
        let mut proto = hyperlight_wasm::SandboxBuilder::new()
            .with_guest_heap_size(RUNTIME_HEAP)
            .with_guest_scratch_size(hyperlight_scratch(config))
            .with_guest_input_buffer_size(config.input_buffer_size + BUFFER_FRAMING)
            .with_guest_output_buffer_size(config.output_buffer_size + BUFFER_FRAMING)
            .build()
            .map_err(failed)?;
        let imports = Imports {
            functions: env.functions.clone(),
            log: config.log_sink.clone(),
        };
        let resources = register_host_functions(&mut proto, imports).map_err(failed_call)?;
        let runtime = proto.load_runtime().map_err(failed)?;
        let image = image()?;
        // SAFETY: the image is read-only and lives as long as the process.
        let loaded =
            unsafe { runtime.load_module_by_mapping(image.base, image.len) }.map_err(failed)?;
        let handle = loaded.interrupt_handle().map_err(failed)?;
        interrupt.set_wake(waker(handle, Arc::downgrade(&interrupt)));
        let mut vm = JsRuntimeSandbox {
            sb: loaded,
            rt: resources,
        };
        vm.set_stack_limit(config.js_stack_limit())
            .map_err(failed_call)?;
        // Nothing caps the VM's memory growth but the scratch region, whose
        // exhaustion aborts the guest: QuickJS caps its own heap instead.
        vm.set_heap_limit(config.heap_size as u64)
            .map_err(failed_call)?;
        vm.set_host_modules(host_modules(&env.functions))
            .map_err(failed_call)?;
        let fresh = vm.sb.snapshot().map_err(failed)?;
        Ok(Self {
            vm,
            fresh,
            interrupt,
            poisoned_by: None,
        })
    }

    /// Runs `f` on the VM as call `id` (0 outside calls): refused if the
    /// call was already told to stop; a failure that leaves the VM
    /// unusable poisons the guest.
    fn enter<R>(&mut self, id: u64, f: impl FnOnce(&mut Vm) -> anyhow::Result<R>) -> Result<R> {
        if let Some(cause) = &self.poisoned_by {
            return Err(Error::Poisoned(cause.clone()));
        }
        if let Some(reason) = self.interrupt.stop_reason(id) {
            return Err(Error::Cancelled(reason));
        }
        f(&mut self.vm).map_err(|e| {
            let error = from_vm(e, self.interrupt.stop_reason(id));
            if self.vm.sb.status().is_ok_and(|status| status.is_poisoned()) {
                self.poisoned_by = Some(match &error {
                    Error::Cancelled(reason) => format!("{} (stopped by {reason})", error.code()),
                    other => format!("{} ({other})", other.code()),
                });
            }
            error
        })
    }
}

impl GuestInstance for HyperlightGuest {
    fn reset(&mut self) -> Result<()> {
        let fresh = self.fresh.clone();
        self.restore_snapshot(fresh)
    }

    fn load(&mut self, plan: LoadPlan<'_>) -> Result<()> {
        for &(namespace, name, source) in &plan.modules {
            let Source::JavaScript(source) = source else {
                return Err(components_unsupported());
            };
            self.enter(plan.id, |vm| {
                vm.add_module(namespace.into(), name.into(), source.clone())
            })?
            .map_err(reported)?;
        }
        for &(name, source) in &plan.handlers {
            let Source::JavaScript(source) = source else {
                return Err(components_unsupported());
            };
            self.enter(plan.id, |vm| vm.add_handler(name.into(), source.clone()))?
                .map_err(reported)?;
        }
        Ok(())
    }

    fn call_handler(&mut self, call: HandlerCall<'_>) -> CallOutcome {
        let result = self
            .enter(call.id, |vm| {
                vm.call_handler(call.name.into(), call.event.into(), call.gc)
            })
            .and_then(|reported_result| reported_result.map_err(reported));
        CallOutcome {
            result,
            fuel_consumed: None,
        }
    }

    fn poisoned_by(&self) -> Option<String> {
        self.poisoned_by.clone()
    }

    fn budget_support(&self) -> BudgetSupport {
        BudgetSupport {
            fuel: Err(
                "fuel budgets are not available on the Hyperlight backend: its guest engine counts no fuel; bound calls with WallClockMonitor or CpuTimeMonitor",
            ),
            epoch: Err(
                "epoch deadlines are not available on the Hyperlight backend: its guest engine has no epochs; bound calls with WallClockMonitor or CpuTimeMonitor",
            ),
        }
    }

    fn snapshot(&mut self) -> Result<GuestImage> {
        if let Some(cause) = &self.poisoned_by {
            return Err(Error::Poisoned(cause.clone()));
        }
        let snapshot = self
            .vm
            .sb
            .snapshot()
            .map_err(|e| Error::Internal(format!("cannot snapshot the VM: {e}")))?;
        Ok(Arc::new(snapshot))
    }

    fn restore(&mut self, image: &GuestImage) -> Result<()> {
        let snapshot = Arc::clone(image)
            .downcast::<Arc<Snapshot>>()
            .map_err(|_| Error::invalid_arg("the snapshot was taken on another backend"))?;
        self.restore_snapshot(Arc::unwrap_or_clone(snapshot))
    }
}

impl HyperlightGuest {
    fn restore_snapshot(&mut self, snapshot: Arc<Snapshot>) -> Result<()> {
        self.vm
            .sb
            .restore(snapshot)
            .map_err(|e| Error::Internal(format!("cannot restore the VM: {e}")))?;
        self.poisoned_by = None;
        Ok(())
    }
}

/// Converts the guest's own error report.
fn reported(error: GuestError) -> Error {
    guest_report!(error, ErrorKind)
}

fn components_unsupported() -> Error {
    Error::invalid_arg(
        "components (handlers, modules and host components) run on the wasmtime backend only",
    )
}

fn host_modules(functions: &HostFunctions) -> Vec<HostModule> {
    functions
        .import_shapes()
        .into_iter()
        .map(|(specifier, functions)| HostModule {
            specifier,
            functions,
        })
        .collect()
}

/// Stops the running call by interrupting the vCPU. A kill finds the vCPU
/// not running while the call has not entered the VM yet or is in a host
/// function; a thread then tries again until the call stops or ends.
fn waker(
    handle: Arc<dyn InterruptHandle>,
    interrupt: Weak<InterruptState>,
) -> impl Fn() + Send + Sync + 'static {
    move || {
        if handle.kill() {
            return;
        }
        let (handle, interrupt) = (handle.clone(), interrupt.clone());
        std::thread::spawn(move || {
            while interrupt
                .upgrade()
                .is_some_and(|state| state.stop_requested().is_some())
            {
                if handle.kill() {
                    return;
                }
                std::thread::sleep(KILL_RETRY);
            }
        });
    }
}
