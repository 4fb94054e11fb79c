//! The shared runtime watchers run on.
//!
//! One multi-threaded tokio runtime serves every monitor in the process. It
//! starts lazily, on the first monitored call, with `POLYBOX_MONITOR_THREADS`
//! worker threads (default 2); no thread is spawned per call. A monitored
//! call spawns one task that races its watchers and is aborted when the call
//! ends first.

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::future::select_all;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use super::Watchers;
use crate::error::{Error, Result};

/// Worker threads of the monitor runtime unless `POLYBOX_MONITOR_THREADS` says otherwise.
const DEFAULT_THREADS: usize = 2;

/// Sleeps on the monitor runtime; for use inside [`ExecutionMonitor`](super::ExecutionMonitor) futures.
pub async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(build)
        .as_ref()
        .map_err(|e| Error::Internal(e.clone()))
}

fn build() -> std::result::Result<Runtime, String> {
    let threads = match std::env::var("POLYBOX_MONITOR_THREADS") {
        Err(_) => DEFAULT_THREADS,
        Ok(value) => match value.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "POLYBOX_MONITOR_THREADS must be a positive integer, not {value:?}"
                ));
            }
        },
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("polybox-monitor")
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the monitor runtime: {e}"))
}

/// Watchers running for one call; dropping this stops them.
pub(crate) struct Watching(JoinHandle<()>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Races `watchers` on the shared runtime; the first to complete calls
/// `fire` with its name. `None` when there is nothing to watch.
pub(crate) fn watch(
    watchers: Watchers,
    fire: impl FnOnce(&'static str) + Send + 'static,
) -> Result<Option<Watching>> {
    if watchers.is_empty() {
        return Ok(None);
    }
    let task = runtime()?.spawn(async move {
        let (name, _, _) = select_all(watchers).await;
        fire(name);
    });
    Ok(Some(Watching(task)))
}
