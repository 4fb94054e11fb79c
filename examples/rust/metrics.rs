//! Exporting Polybox's metrics to Prometheus with `metrics-exporter-prometheus`.
//! With its `http-listener` feature, `PrometheusBuilder::new().install()`
//! serves the same text on :9000/metrics instead.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use polybox::{CpuTimeMonitor, SandboxBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let recorder = PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    metrics::set_global_recorder(recorder)?;

    let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    sandbox.add_handler("spin", "function handler() { for (;;) {} }")?;
    sandbox.add_handler("echo", "function handler(e) { return e; }")?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let clean = loaded.snapshot()?;
    for _ in 0..3 {
        loaded.handle_event("echo", "{}", None)?;
    }
    let limit = CpuTimeMonitor::new(Duration::from_millis(20))?;
    let _ = loaded.handle_event_with_monitor("spin", "{}", &limit, None);
    loaded.restore(&clean)?;

    print!("{}", prometheus.render());
    Ok(())
}
