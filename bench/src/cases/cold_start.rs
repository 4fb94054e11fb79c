//! Cold start: a fresh sandbox from the builder to the first handler result.

use polybox::SandboxBuilder;

use crate::report::{Measurement, Unit};
use crate::stats::{Plan, latency_us};

/// Builder → runtime → handler → first result, per sandbox.
pub fn measure(plan: Plan) -> Measurement {
    let summary = latency_us(plan, || {
        let mut sandbox = SandboxBuilder::new()
            .build()
            .unwrap()
            .load_runtime()
            .unwrap();
        sandbox
            .add_handler("echo", "function handler(e) { return e; }")
            .unwrap();
        let mut loaded = sandbox.get_loaded_sandbox().unwrap();
        loaded.handle_event("echo", r#"{"x":1}"#, None).unwrap();
    });
    Measurement {
        group: "cold start",
        name: "builder to first result".into(),
        unit: Unit::Micros,
        summary,
    }
}
