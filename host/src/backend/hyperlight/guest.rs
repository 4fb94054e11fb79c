//! One sandbox's guest on Hyperlight: the JS guest in a micro-VM.

use std::sync::{Arc, Weak};
use std::time::Duration;

use hyperlight_wasm::{HyperlightError, InterruptHandle, LoadedWasmSandbox, Snapshot};

use super::bindings::polybox::sandbox::Runtime as _;
use super::bindings::polybox::sandbox::runtime::{
    HostModule as ModuleDeclaration, Program, ProgramKind,
};
use super::bindings::polybox::sandbox::types::{ErrorKind, GuestError as GuestReport};
use super::bindings::{JsRuntimeSandbox, register_host_functions};
use super::errors::from_vm;
use super::image::image;
use super::imports::Imports;
use super::probe::usable;
use crate::backend::report::guest_report;
use crate::backend::sizing::hyperlight_scratch;
use crate::backend::{
    CallOutcome, GuestImage, GuestInstance, HandlerCall, LoadPlan, ProgramCall, ProgramExit,
    ProgramOutcome, Source, foreign_image, program_record,
};
use crate::capability::{ComponentGrant, ComponentHost, Dispatcher, Provider};
use crate::component::WasmComponent;
use crate::config::SandboxConfig;
use crate::error::{Error, Result};
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
    /// Where the VM's host calls go.
    dispatcher: Arc<Dispatcher>,
    /// The guest as loaded: started, stack limit set, host modules declared
    /// (taken by `declare_modules`).
    fresh: Option<Arc<Snapshot>>,
    interrupt: Arc<InterruptState>,
    /// Why the VM can no longer be entered, once a call left it unusable.
    poisoned_by: Option<String>,
}

impl HyperlightGuest {
    /// Starts a VM and loads the guest into it, serving its imports from
    /// `dispatcher`. Fails with `ERR_HYPERVISOR_UNAVAILABLE` where VMs
    /// cannot run.
    pub fn new(
        config: &SandboxConfig,
        dispatcher: Arc<Dispatcher>,
        interrupt: Arc<InterruptState>,
    ) -> Result<Self> {
        usable()?;
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
            dispatcher: dispatcher.clone(),
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
        if config.programs {
            // Before the snapshot every program starts from.
            vm.prepare_programs().map_err(failed_call)?;
        }
        Ok(Self {
            vm,
            dispatcher,
            fresh: None,
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
        self.interrupt.check(id)?;
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

impl ComponentHost for HyperlightGuest {
    /// User components do not run in the VM: nothing to grant.
    fn grant(&mut self, _: ComponentGrant) {}

    fn start_component(&mut self, _: &str, _: &WasmComponent) -> Result<Arc<dyn Provider>> {
        Err(components_unsupported())
    }
}

impl GuestInstance for HyperlightGuest {
    /// Declares the modules, then takes the snapshot `reset` returns to.
    fn declare_modules(&mut self) -> Result<()> {
        let declare = |specifier, functions| ModuleDeclaration {
            specifier,
            functions,
        };
        let modules = self.dispatcher.declarations(declare);
        self.enter(0, |vm| vm.set_host_modules(modules))?;
        let fresh = self
            .vm
            .sb
            .snapshot()
            .map_err(|e| Error::Internal(format!("cannot snapshot the VM: {e}")))?;
        self.fresh = Some(fresh);
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        let fresh = self
            .fresh
            .clone()
            .ok_or_else(|| Error::Internal("the VM was reset before it was set up".into()))?;
        self.restore_snapshot(fresh)
    }

    fn load(&mut self, plan: LoadPlan<'_>) -> Result<()> {
        for &(namespace, name, source) in &plan.modules {
            let Source::Script(source) = source else {
                return Err(components_unsupported());
            };
            self.enter(plan.id, |vm| {
                vm.add_module(namespace.into(), name.into(), source.clone())
            })?
            .map_err(reported)?;
        }
        for &(name, source) in &plan.handlers {
            let Source::Script(source) = source else {
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

    fn run_program(&mut self, call: ProgramCall<'_>) -> ProgramOutcome {
        let program = program_record!(call, Program, ProgramKind);
        let result = self
            .enter(call.id, |vm| vm.run_program(program))
            .map(|exit| ProgramExit {
                code: exit.code,
                value: exit.value,
            });
        ProgramOutcome {
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

    fn start_image(&mut self) -> Result<GuestImage> {
        let fresh = self
            .fresh
            .clone()
            .ok_or_else(|| Error::Internal("the VM has not been set up".into()))?;
        Ok(Arc::new(fresh))
    }

    fn restore(&mut self, image: &GuestImage) -> Result<()> {
        let snapshot = Arc::clone(image)
            .downcast::<Arc<Snapshot>>()
            .map_err(|_| foreign_image())?;
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
fn reported(report: GuestReport) -> Error {
    guest_report!(report, ErrorKind)
}

fn components_unsupported() -> Error {
    Error::invalid_arg(
        "components (handlers, modules and host components) run on the wasmtime backend only",
    )
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
