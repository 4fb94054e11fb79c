//! Compute: fib(25) in the sandbox against native QuickJS, and the slowdown
//! of fuel metering and epoch deadlines.

use std::time::Duration;

use polybox::{EpochDeadline, FuelBudget, LoadedJSSandbox, SandboxBuilder};

use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, latency_us};

const FIB: &str = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }";

fn loaded(fuel: bool) -> LoadedJSSandbox {
    let source = format!("{FIB}\nfunction handler(e) {{ return fib(e.n); }}");
    super::loaded(
        SandboxBuilder::new().fuel_metering(fuel),
        &[("fib", source.as_str())],
    )
}

/// fib(25): natively (rquickjs on the host), in the sandbox, and in the
/// sandbox under a fuel budget and under an epoch deadline.
pub fn measure(plan: Plan) -> Vec<Measurement> {
    let event = r#"{"n":25}"#;
    let runtime = rquickjs::Runtime::new().unwrap();
    let context = rquickjs::Context::full(&runtime).unwrap();
    let native = context.with(|ctx| {
        ctx.eval::<(), _>(FIB).unwrap();
        let fib: rquickjs::Function = ctx.globals().get("fib").unwrap();
        latency_us(plan, || fib.call::<_, i32>((25,)).unwrap())
    });
    let mut plain = loaded(false);
    let mut metered = loaded(true);
    let sandboxed = latency_us(plan, || {
        plain.handle_event("fib", event, Some(false)).unwrap()
    });
    let fuel = FuelBudget::new(u64::MAX / 2).unwrap();
    let fueled = latency_us(plan, || {
        metered
            .handle_event_with_monitor("fib", event, &fuel, Some(false))
            .unwrap()
    });
    let epoch = EpochDeadline::new(Duration::from_secs(60)).unwrap();
    let epoched = latency_us(plan, || {
        plain
            .handle_event_with_monitor("fib", event, &epoch, Some(false))
            .unwrap()
    });
    vec![
        Measurement::new(
            "compute",
            "fib(25), native QuickJS (rquickjs)",
            Unit::Micros,
            native,
        ),
        Measurement::new("compute", "fib(25) in the sandbox", Unit::Micros, sandboxed),
        Measurement::new(
            "compute",
            "sandbox / native",
            Unit::Ratio,
            sandboxed.ratio_to(native),
        )
        .target(Target::AtMost(2.0)),
        Measurement::new(
            "compute",
            "slowdown under a fuel budget",
            Unit::Ratio,
            fueled.ratio_to(sandboxed),
        )
        .target(Target::AtMost(1.3)),
        Measurement::new(
            "compute",
            "slowdown under an epoch deadline",
            Unit::Ratio,
            epoched.ratio_to(sandboxed),
        )
        .target(Target::AtMost(1.15)),
    ]
}
