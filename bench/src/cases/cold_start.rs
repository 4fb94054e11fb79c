//! Cold start: a fresh sandbox from the builder to the first handler result.

use polybox::{Backend, SandboxBuilder};

use super::{ECHO, EVENT, loaded};
use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, latency_us};

/// Builder → runtime → handler → first result, on the default path (started
/// from the engine's pre-initialised runtime image), and for a configuration
/// no sandbox has used yet (the engine is created, the compiled guest loaded
/// from the on-disk cache and the runtime image built). On Hyperlight, a
/// new VM from the builder to the first result.
pub fn measure(backend: Backend, plan: Plan, first: Plan) -> Vec<Measurement> {
    if backend == Backend::Hyperlight {
        let vm = latency_us(first, || {
            first_result(SandboxBuilder::new().backend(backend))
        });
        return vec![Measurement::new(
            "cold start",
            "builder to first result (new VM)",
            Unit::Micros,
            vm,
        )];
    }
    let default = latency_us(plan, || first_result(SandboxBuilder::new()));
    // Each sample uses a stack size no earlier sandbox used: a new engine.
    let mut stack = 2 << 20;
    let fresh = latency_us(first, || {
        stack += 4096;
        first_result(SandboxBuilder::new().stack_size(stack))
    });
    vec![
        Measurement::new(
            "cold start",
            "builder to first result (runtime image)",
            Unit::Micros,
            default,
        )
        .target(Target::AtMost(40.0)),
        Measurement::new(
            "cold start",
            "first sandbox of a new configuration",
            Unit::Micros,
            fresh,
        ),
    ]
}

fn first_result(builder: SandboxBuilder) -> polybox::LoadedJSSandbox {
    let mut loaded = loaded(builder, &[("echo", ECHO)]);
    loaded.handle_event("echo", EVENT, None).unwrap();
    loaded
}
