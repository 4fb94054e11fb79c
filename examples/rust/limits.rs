//! Bounding calls: wall-clock and CPU monitors racing, a fuel budget, a kill
//! from another thread, and recovery with snapshot/restore.

use std::time::Duration;

use polybox::{CpuTimeMonitor, FuelBudget, SandboxBuilder, WallClockMonitor};

fn main() -> polybox::Result<()> {
    let mut sandbox = SandboxBuilder::new()
        .fuel_metering(true)
        .build()?
        .load_runtime()?;
    sandbox.add_handler("spin", "function handler() { for (;;) {} }")?;
    sandbox.add_handler("count", "let n = 0;\nfunction handler() { return ++n; }")?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let clean = loaded.snapshot()?;

    // The recommended pair: whichever fires first stops the call.
    let limits = (
        WallClockMonitor::new(Duration::from_secs(5))?,
        CpuTimeMonitor::new(Duration::from_millis(100))?,
    );
    let error = loaded
        .handle_event_with_monitor("spin", "{}", &limits, None)
        .unwrap_err();
    let stats = loaded.last_call_stats().expect("stats after every call");
    println!(
        "{} after {:?} (terminated by {:?})",
        error.code(),
        stats.wall_clock,
        stats.terminated_by
    );
    println!("poisoned: {}", loaded.poisoned());
    loaded.restore(&clean)?;
    println!("restored, poisoned: {}", loaded.poisoned());

    // A deterministic budget: stops at the same instruction every time.
    let error = loaded
        .handle_event_with_monitor("spin", "{}", &FuelBudget::new(5_000_000)?, None)
        .unwrap_err();
    let stats = loaded.last_call_stats().expect("stats after every call");
    println!("{} after {:?} fuel", error.code(), stats.fuel_consumed);
    loaded.restore(&clean)?;

    // A kill from another thread.
    let handle = loaded.interrupt_handle();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.kill();
    });
    let error = loaded.handle_event("spin", "{}", None).unwrap_err();
    killer.join().expect("the killer thread");
    println!(
        "{} (terminated by {:?})",
        error.code(),
        loaded.last_call_stats().and_then(|s| s.terminated_by)
    );
    loaded.restore(&clean)?;

    println!(
        "count after restore: {}",
        loaded.handle_event("count", "{}", None)?
    );
    Ok(())
}
