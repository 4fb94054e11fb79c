//! [`CpuTimeMonitor`]: stop a call after it has used a span of CPU time.

use std::future::Future;
use std::time::{Duration, Instant};

use super::{ExecutionMonitor, Recheck, host_time, sleep};
use crate::error::{Error, Result};

/// Stops a call once it has used `limit` of CPU time. Catches
/// compute-bound abuse without penalising guests that wait for the clock.
/// Reported as `"cpu-time"`.
///
/// The clock is the CPU clock of the thread that calls `handle_event`
/// (`pthread_getcpuclockid`), plus the wall-clock time the call spends in
/// host functions, which work on its behalf, possibly on another thread (a
/// host function that never returns is stopped too). It is read on the
/// process's deadline timer, no thread woken per call: first when half the
/// budget has passed in wall-clock time (the clock runs at most twice as
/// fast, when a host function computes on the guest's thread), then again
/// after half of what is left, at least 1 ms apart, so precision tightens
/// near the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimeMonitor {
    limit: Duration,
}

impl CpuTimeMonitor {
    /// A monitor for `limit`; zero is `ERR_INVALID_ARG`.
    pub fn new(limit: Duration) -> Result<Self> {
        if limit.is_zero() {
            return Err(Error::invalid_arg(
                "a CPU time limit must be greater than zero",
            ));
        }
        Ok(Self { limit })
    }

    /// The CPU time allowed.
    pub fn limit(&self) -> Duration {
        self.limit
    }
}

/// How long at least between two looks at the clock.
const LOOK_AGAIN: Duration = Duration::from_millis(1);

impl ExecutionMonitor for CpuTimeMonitor {
    /// The same budget as a watcher future, for callers that drive the
    /// trait themselves; the sandbox arms [`recheck`](Self::recheck).
    fn get_monitor(&self) -> Result<impl Future<Output = ()> + Send + 'static> {
        let mut check = self.check()?;
        Ok(async move {
            while let Some(at) = check() {
                sleep(at.saturating_duration_since(Instant::now())).await;
            }
        })
    }

    fn name(&self) -> &'static str {
        "cpu-time"
    }

    fn recheck(&self) -> Result<Option<Recheck>> {
        Ok(Some(Recheck {
            at: Instant::now() + (self.limit / 2).max(LOOK_AGAIN),
            check: Box::new(self.check()?),
        }))
    }
}

impl CpuTimeMonitor {
    /// A look at the calling thread's budget: when to look next, or `None`
    /// once it is spent (or its clock cannot be read: fail closed).
    fn check(&self) -> Result<impl FnMut() -> Option<Instant> + Send + 'static> {
        let clock = ThreadCpuClock::current()?;
        let host = host_time::Watch::current();
        let start = clock.now()? + host.spent();
        let limit = self.limit;
        Ok(move || {
            let now = clock.now().ok()?;
            let used = (now + host.spent()).saturating_sub(start);
            let left = limit.checked_sub(used).filter(|left| !left.is_zero())?;
            Some(Instant::now() + (left / 2).max(LOOK_AGAIN))
        })
    }
}

/// The CPU clock of one thread, readable from any thread of the process.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadCpuClock(libc::clockid_t);

impl ThreadCpuClock {
    /// The clock of the calling thread.
    pub fn current() -> Result<Self> {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: pthread_self() is the calling thread; `clock` is a valid out-pointer.
        let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
        if rc != 0 {
            return Err(Error::Internal(format!(
                "cannot read this thread's CPU clock: {}",
                std::io::Error::from_raw_os_error(rc)
            )));
        }
        Ok(Self(clock))
    }

    /// CPU time the thread has used.
    pub fn now(self) -> Result<Duration> {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `time` is a valid out-pointer; an invalid clock yields an error code.
        if unsafe { libc::clock_gettime(self.0, &mut time) } != 0 {
            return Err(Error::Internal(format!(
                "cannot read a thread CPU clock: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(Duration::new(time.tv_sec as u64, time.tv_nsec as u32))
    }
}

/// CPU time used so far by the calling thread.
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Some(Duration::new(
        u64::try_from(time.tv_sec).ok()?,
        u32::try_from(time.tv_nsec).ok()?,
    ))
}
