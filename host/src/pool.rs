//! [`Pool`]: calls served over a fixed set of sandboxes, the way a server
//! serves requests.
//!
//! # Why a pool
//!
//! A server answering requests with guest code wants three things a single
//! sandbox does not give: calls running side by side (one per sandbox, at
//! most the pool's size at once), a bound on what waits (the queue limit:
//! past it a call fails at once with `ERR_BUSY` instead of piling up memory
//! and latency), and recovery without the caller's help (a sandbox a call
//! poisoned is restored to its start before anyone else uses it). And it
//! must choose what a call may see of the calls before it — the
//! [`Strategy`], as hyperlight-bench compares them: keep the state
//! ([`Strategy::Reuse`]), restore the sandbox's start after every call so
//! that no tenant sees another's ([`Strategy::Restore`]), or build a new
//! sandbox per call ([`Strategy::New`]).
//!
//! The sandboxes come from a [`Template`] ([`Pool::of`]: created in
//! microseconds, restored to the template's capture), or from a factory the
//! caller gives (building the runtime, registering host functions, loading
//! handlers), run once per sandbox, each one's start snapshotted right
//! after.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::monitor::CallLimits;
use crate::sandbox::LoadedJSSandbox;
use crate::snapshot::Snapshot;
use crate::template::Template;

/// What a pooled sandbox keeps between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Everything: a call sees what earlier calls left (fastest; for one
    /// tenant's calls).
    Reuse,
    /// Nothing: the sandbox is restored to its start after every call, so
    /// no state leaks from one call to the next.
    #[default]
    Restore,
    /// Nothing, by building a new sandbox for every call (slowest; the
    /// pool's size still bounds how many run at once).
    New,
}

/// Builds the sandboxes of a pool.
pub type SandboxFactory = dyn Fn() -> Result<LoadedJSSandbox> + Send + Sync;

/// Configures a [`Pool`].
pub struct PoolBuilder {
    factory: Arc<SandboxFactory>,
    start: Option<Snapshot>,
    size: usize,
    queue_limit: usize,
    strategy: Strategy,
    limits: CallLimits,
}

impl PoolBuilder {
    /// How many sandboxes serve calls, so how many calls run at once
    /// (default 2).
    pub fn size(mut self, size: usize) -> Self {
        self.size = size;
        self
    }

    /// How many calls may wait for a sandbox (default 64); past it a call
    /// fails at once with `ERR_BUSY`.
    pub fn queue_limit(mut self, limit: usize) -> Self {
        self.queue_limit = limit;
        self
    }

    /// What a sandbox keeps between calls (default [`Strategy::Restore`]).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The limits of every call, unless a call gives its own.
    pub fn limits(mut self, limits: CallLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Builds the pool's sandboxes (all of them now, so that a factory that
    /// fails, fails here) and snapshots each one's start. `ERR_INVALID_ARG`
    /// for a size of zero.
    pub fn build(self) -> Result<Pool> {
        if self.size == 0 {
            return Err(Error::invalid_arg("a pool needs at least one sandbox"));
        }
        let idle = (0..self.size)
            .map(|_| Member::new(&*self.factory, self.start.as_ref(), self.strategy))
            .collect::<Result<Vec<_>>>()?;
        Ok(Pool {
            inner: Arc::new(Inner {
                factory: self.factory,
                start: self.start,
                strategy: self.strategy,
                limits: self.limits,
                queue_limit: self.queue_limit,
                size: self.size,
                state: Mutex::new(State { idle, waiting: 0 }),
                freed: Condvar::new(),
            }),
        })
    }
}

/// Calls served over a fixed set of sandboxes (see the [module docs](self)).
/// Cheap to clone: clones serve from the same sandboxes.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use polybox::{Pool, SandboxBuilder, Strategy};
///
/// let pool = Pool::builder(|| {
///     let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
///     sandbox.add_handler("hello", "function handler(e) { return 'hello ' + e.name; }")?;
///     Ok(sandbox.get_loaded_sandbox()?)
/// })
/// .size(2)
/// .strategy(Strategy::Restore)
/// .build()?;
/// assert_eq!(pool.call("hello", r#"{"name":"pool"}"#)?, r#""hello pool""#);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    factory: Arc<SandboxFactory>,
    /// The start every sandbox the factory builds shares, when known (a
    /// template's); else each one's start is snapshotted.
    start: Option<Snapshot>,
    strategy: Strategy,
    limits: CallLimits,
    queue_limit: usize,
    size: usize,
    state: Mutex<State>,
    /// Signalled when a sandbox comes back.
    freed: Condvar,
}

struct State {
    idle: Vec<Member>,
    /// Calls waiting for a sandbox.
    waiting: usize,
}

/// One of the pool's sandboxes and its start.
struct Member {
    /// `None` under [`Strategy::New`]: each call builds its own.
    sandbox: Option<(LoadedJSSandbox, Snapshot)>,
}

impl Member {
    fn new(factory: &SandboxFactory, start: Option<&Snapshot>, strategy: Strategy) -> Result<Self> {
        let sandbox = match strategy {
            Strategy::New => None,
            Strategy::Reuse | Strategy::Restore => {
                let mut sandbox = factory()?;
                let start = match start {
                    Some(start) => start.clone(),
                    None => sandbox.snapshot()?,
                };
                Some((sandbox, start))
            }
        };
        Ok(Self { sandbox })
    }
}

impl Pool {
    /// A pool whose sandboxes `factory` builds, loaded and ready to call.
    pub fn builder(
        factory: impl Fn() -> Result<LoadedJSSandbox> + Send + Sync + 'static,
    ) -> PoolBuilder {
        PoolBuilder {
            factory: Arc::new(factory),
            start: None,
            size: 2,
            queue_limit: 64,
            strategy: Strategy::default(),
            limits: CallLimits::default(),
        }
    }

    /// A pool whose sandboxes are created from `template`: ready in
    /// microseconds, sharing the template's unwritten pages, and restored
    /// to the template's capture (no snapshot of their own is taken).
    pub fn of(template: Template) -> PoolBuilder {
        let start = template.snapshot().clone();
        let mut builder = Self::builder(move || template.create());
        builder.start = Some(start);
        builder
    }

    /// Calls handler `name` with `event` (JSON text) in a free sandbox,
    /// under the pool's limits; waits for one if all are busy, unless the
    /// queue is full (`ERR_BUSY`).
    pub fn call(&self, name: &str, event: impl AsRef<str>) -> Result<String> {
        self.call_with_limits(name, event, &self.inner.limits)
    }

    /// [`call`](Self::call) under `limits` instead of the pool's.
    pub fn call_with_limits(
        &self,
        name: &str,
        event: impl AsRef<str>,
        limits: &CallLimits,
    ) -> Result<String> {
        self.serve(|sandbox, gc| {
            sandbox.handle_event_with_monitor(name, event.as_ref(), limits, gc)
        })
    }

    /// Answers `request` with handler `name` in a free sandbox, under the
    /// pool's limits, as [`LoadedJSSandbox::fetch`] does; waits as
    /// [`call`](Self::call) does.
    pub fn fetch(&self, name: &str, request: &HttpRequest) -> Result<HttpResponse> {
        self.fetch_with_limits(name, request, &self.inner.limits)
    }

    /// [`fetch`](Self::fetch) under `limits` instead of the pool's.
    pub fn fetch_with_limits(
        &self,
        name: &str,
        request: &HttpRequest,
        limits: &CallLimits,
    ) -> Result<HttpResponse> {
        self.serve(|sandbox, gc| sandbox.fetch_with(name, request, limits, gc))
    }

    /// Runs `call` in a free sandbox, then readies the sandbox for the next
    /// call as the strategy says. `call` is told whether to collect garbage
    /// after it: not when nothing of the call is kept (a collection would
    /// only mark every page of the heap for the restore to copy back).
    fn serve<T>(
        &self,
        call: impl Fn(&mut LoadedJSSandbox, Option<bool>) -> Result<T>,
    ) -> Result<T> {
        let inner = &self.inner;
        let gc = (inner.strategy != Strategy::Reuse).then_some(false);
        let mut member = inner.take()?;
        let result = match &mut member.sandbox {
            Some((sandbox, start)) => {
                let result = call(sandbox, gc);
                // A poisoned sandbox goes back to its start whatever the
                // strategy; a restore failing leaves it to be rebuilt.
                if (inner.strategy == Strategy::Restore || sandbox.poisoned())
                    && sandbox.restore(start).is_err()
                {
                    member.sandbox = None;
                }
                result
            }
            None => (inner.factory)().and_then(|mut sandbox| call(&mut sandbox, gc)),
        };
        if member.sandbox.is_none() && inner.strategy != Strategy::New {
            // Rebuilt off the caller's result: a factory failing here is
            // tried again by the next call that gets this member.
            if let Ok(rebuilt) = Member::new(&*inner.factory, inner.start.as_ref(), inner.strategy)
            {
                member = rebuilt;
            }
        }
        inner.give_back(member);
        result
    }

    /// How many sandboxes serve calls.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// How many calls wait for a sandbox now.
    pub fn queued(&self) -> usize {
        self.inner.lock().waiting
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A free member, waiting for one if the queue has room.
    fn take(&self) -> Result<Member> {
        let mut state = self.lock();
        if state.idle.is_empty() {
            if state.waiting >= self.queue_limit {
                return Err(Error::Busy(format!(
                    "all {} of the pool's sandboxes are busy and {} calls already wait (its queue limit)",
                    self.size, state.waiting
                )));
            }
            state.waiting += 1;
            while state.idle.is_empty() {
                state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            state.waiting -= 1;
        }
        Ok(state.idle.pop().expect("waited for one"))
    }

    fn give_back(&self, member: Member) {
        self.lock().idle.push(member);
        self.freed.notify_one();
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.inner.size)
            .field("strategy", &self.inner.strategy)
            .field("queue_limit", &self.inner.queue_limit)
            .finish_non_exhaustive()
    }
}
