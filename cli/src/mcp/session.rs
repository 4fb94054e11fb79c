//! [`Session`]: the sandboxes of one stateful MCP session (`--stateful`):
//! one runtime per language for all the session's calls, so that what a
//! call declares and writes the next one in that language sees. It is bounded: the sandbox's heap, a
//! budget of run time for the whole session, and an idle timeout after
//! which the sandbox is dropped (the next call starts a fresh one).

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use polybox::{Language, Runtime};

use super::executor::{Execution, Executor};

/// One session's sandbox and what it has used.
pub struct Session {
    state: Mutex<State>,
    idle_timeout: Duration,
    budget: Duration,
}

struct State {
    /// The JavaScript and the Python runtime, once used.
    runtimes: Vec<(Language, Runtime)>,
    last_call: Instant,
    spent: Duration,
}

impl Session {
    /// A session whose sandbox is dropped after `idle_timeout` without a
    /// call, and which may run code for `budget` in all.
    pub fn start(idle_timeout: Duration, budget: Duration) -> Arc<Self> {
        let session = Arc::new(Self {
            state: Mutex::new(State {
                runtimes: Vec::new(),
                last_call: Instant::now(),
                spent: Duration::ZERO,
            }),
            idle_timeout,
            budget,
        });
        let watched = Arc::downgrade(&session);
        std::thread::spawn(move || reap(&watched));
        session
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `code` in the session's sandbox for `language` (a fresh one if
    /// it has none), within what is left of its budget.
    pub fn run(
        &self,
        executor: &Executor,
        language: Language,
        code: &str,
        timeout: Option<Duration>,
    ) -> Result<Execution, String> {
        let mut state = self.state();
        let left = self.budget.saturating_sub(state.spent);
        if left.is_zero() {
            return Err(format!(
                "this session has used its budget of {} s of run time; start a new session",
                self.budget.as_secs()
            ));
        }
        if state.last_call.elapsed() > self.idle_timeout {
            state.runtimes.clear();
        }
        // A new sandbox's first line starts a fresh process.
        let index = state.runtimes.iter().position(|(l, _)| *l == language);
        let continues = index.is_some();
        let index = match index {
            Some(index) => index,
            None => {
                let runtime = executor.take().map_err(|e| e.to_string())?;
                state.runtimes.push((language, runtime));
                state.runtimes.len() - 1
            }
        };
        let timeout = Some(timeout.map_or(left, |t| t.min(left)));
        let runtime = &mut state.runtimes[index].1;
        let execution = executor
            .run_line(runtime, code, timeout, continues)
            .map_err(|e| e.to_string())?;
        state.spent += execution.duration;
        state.last_call = Instant::now();
        Ok(execution)
    }
}

/// Drops `session`'s sandbox once it has been idle too long; ends with
/// the session.
fn reap(session: &Weak<Session>) {
    loop {
        let Some(live) = session.upgrade() else {
            return;
        };
        let pause =
            (live.idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        {
            let mut state = live.state();
            if !state.runtimes.is_empty() && state.last_call.elapsed() > live.idle_timeout {
                state.runtimes.clear();
            }
        }
        drop(live);
        std::thread::sleep(pause);
    }
}
