//! A sandbox's virtual sockets: the ports its program listens on
//! (`http.createServer(...).listen(port)`), and the requests the host
//! sends them ([`Listeners::fetch`]).
//!
//! # Why virtual
//!
//! A guest has no sockets, and a listening program must not take a port
//! on the host or be reachable from the network. So `listen` only records
//! the port in this table (`EADDRINUSE` when the process already listens
//! there), and a request reaches the program only when the host hands it
//! one: the request waits in the table's inbox until the program's event
//! loop, idle, takes what arrived (`accept`, which a stop ends at once),
//! and its answer (`respond`) goes back to the host caller that waits for
//! it. The table belongs to the running process: when it ends (or the next
//! starts) every port closes, and requests still waiting fail with
//! `ERR_CONNECTION_RESET`.
//!
//! Served to guests as the internal module `polybox:sockets`: `listen(port)`
//! (0 picks a free port) answers the port, `close(port)`, `accept(deadline)`
//! answers the requests that arrived (each `{id, port, method, url, headers}`
//! with its body as `http/wire.rs` puts it) once some did or the monotonic
//! clock reached `deadline` (nanoseconds), or null once the call stopped;
//! and
//! `respond(id, response)`.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::host_functions::CallContext;
use super::{Capability, HostCallError, Installer, Provider, Refusal, answer, clock};
use crate::error::{Error, Result};
use crate::http::{self, HttpRequest, HttpResponse};

/// The specifier guests reach the table through.
pub(crate) const SPECIFIER: &str = "polybox:sockets";

/// The first port `listen(0)` hands out, as Linux's ephemeral range starts.
const EPHEMERAL: u16 = 32768;

/// What waits for a request's answer.
type Reply = SyncSender<Result<HttpResponse>>;

#[derive(Default)]
struct Table {
    listening: BTreeSet<u16>,
    /// Requests sent, not yet taken by the program.
    inbox: VecDeque<(u64, u16, HttpRequest, Reply)>,
    /// Requests taken, not yet answered.
    taken: HashMap<u64, Reply>,
    next_id: u64,
}

/// A sandbox's virtual sockets. See the module docs.
#[derive(Default)]
pub(crate) struct Sockets {
    table: Arc<Mutex<Table>>,
    /// Signalled when a request arrives, a port opens, or the table resets.
    changed: Arc<Condvar>,
}

impl Sockets {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes every port and fails every request not yet answered: the
    /// process they belonged to is gone.
    pub fn reset(&self) {
        let mut table = self.table();
        let reset = || {
            Err(Error::ConnectionReset(
                "the process ended before it answered".into(),
            ))
        };
        for (_, _, _, reply) in table.inbox.drain(..) {
            let _ = reply.try_send(reset());
        }
        for (_, reply) in table.taken.drain() {
            let _ = reply.try_send(reset());
        }
        table.listening.clear();
        self.changed.notify_all();
    }

    fn listen(&self, port: u16) -> Result<u16, Refusal> {
        let mut table = self.table();
        let port = match port {
            0 => (EPHEMERAL..=u16::MAX)
                .find(|p| !table.listening.contains(p))
                .ok_or_else(|| Refusal::with("EADDRINUSE", "no free port is left"))?,
            port if table.listening.contains(&port) => {
                return Err(Refusal::with(
                    "EADDRINUSE",
                    format!("address already in use :::{port}"),
                ));
            }
            port => port,
        };
        table.listening.insert(port);
        self.changed.notify_all();
        Ok(port)
    }

    fn close(&self, port: u16) {
        let mut table = self.table();
        table.listening.remove(&port);
        let (kept, refused): (VecDeque<_>, VecDeque<_>) =
            table.inbox.drain(..).partition(|(_, p, _, _)| *p != port);
        table.inbox = kept;
        for (_, _, _, reply) in refused {
            let _ = reply.try_send(Err(Error::ConnectionReset(format!(
                "the server on port {port} closed"
            ))));
        }
    }

    /// The requests that arrived, waiting for one until `deadline_ns`; null
    /// when the call was stopped. Each is taken: its answer is expected
    /// through `respond`.
    fn accept(&self, deadline_ns: u64, context: &CallContext<'_>) -> Value {
        let deadline = clock::monotonic_instant(deadline_ns);
        let mut table = context.wait_while(&self.table, &self.changed, Some(deadline), |table| {
            table.inbox.is_empty()
        });
        if table.inbox.is_empty() && context.stop_reason().is_some() {
            return Value::Null;
        }
        let arrived: Vec<_> = table.inbox.drain(..).collect();
        let mut requests = Vec::with_capacity(arrived.len());
        for (id, port, request, reply) in arrived {
            table.taken.insert(id, reply);
            let mut json = http::request_json(&request);
            json["id"] = id.into();
            json["port"] = port.into();
            requests.push(json);
        }
        Value::Array(requests)
    }

    fn respond(&self, id: u64, response: &str) -> Result<(), Refusal> {
        let reply = self.table().taken.remove(&id).ok_or_else(|| {
            Refusal::with("EINVAL", format!("no request {id} waits for an answer"))
        })?;
        let _ = reply.try_send(http::response_from(response));
        Ok(())
    }
}

impl Provider for Sockets {
    fn functions(&self) -> Vec<String> {
        ["listen", "close", "accept", "respond"]
            .map(String::from)
            .to_vec()
    }

    fn call(
        &self,
        function: &str,
        args: &str,
        context: &CallContext<'_>,
    ) -> std::result::Result<String, HostCallError> {
        let args: Vec<Value> = serde_json::from_str(args)
            .map_err(|e| HostCallError::TypeMismatch(format!("{SPECIFIER}: {e}")))?;
        let number = |i: usize| args.get(i).and_then(Value::as_u64);
        let port = || {
            number(0)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| Refusal::with("ERR_SOCKET_BAD_PORT", "a port is 0 to 65535"))
        };
        let result = match function {
            "listen" => port().and_then(|p| self.listen(p)).map(Value::from),
            "close" => port().map(|p| {
                self.close(p);
                Value::Null
            }),
            "accept" => Ok(self.accept(number(0).unwrap_or(0), context)),
            "respond" => match (number(0), args.get(1)) {
                (Some(id), Some(response)) => self
                    .respond(id, &response.to_string())
                    .map(|()| Value::Null),
                _ => Err(Refusal::with("EINVAL", "respond(id, response)")),
            },
            _ => {
                return Err(HostCallError::Failed(format!(
                    "{SPECIFIER} has no function {function:?}"
                )));
            }
        };
        Ok(answer(result))
    }
}

/// A sandbox's listening ports, as the host reaches them: whether a port
/// listens, waiting until one does, and requests to it. Cloned handles
/// share the table.
#[derive(Clone)]
pub struct Listeners(pub(crate) Arc<Sockets>);

impl Listeners {
    /// Whether the running program listens on `port`.
    pub fn find_listener(&self, port: u16) -> bool {
        self.0.table().listening.contains(&port)
    }

    /// The ports the running program listens on.
    pub fn ports(&self) -> Vec<u16> {
        self.0.table().listening.iter().copied().collect()
    }

    /// Waits until the running program listens on `port`; `ERR_TIMEOUT`
    /// after `timeout`.
    pub fn wait_for_listener(&self, port: u16, timeout: Duration) -> Result<()> {
        self.wait_for(timeout, |listening| {
            listening.contains(&port).then_some(port)
        })
        .map(drop)
        .map_err(|_| {
            Error::Timeout(format!(
                "nothing listened on port {port} within {timeout:?}"
            ))
        })
    }

    /// Waits until the running program listens on any port; returns the
    /// lowest. `ERR_TIMEOUT` after `timeout`.
    pub fn wait_for_any_listener(&self, timeout: Duration) -> Result<u16> {
        self.wait_for(timeout, |listening| listening.first().copied())
            .map_err(|_| Error::Timeout(format!("nothing listened within {timeout:?}")))
    }

    /// Waits until `found` finds something among the ports listening.
    fn wait_for(
        &self,
        timeout: Duration,
        found: impl Fn(&BTreeSet<u16>) -> Option<u16>,
    ) -> std::result::Result<u16, ()> {
        let deadline = Instant::now() + timeout;
        let mut table = self.0.table();
        loop {
            if let Some(port) = found(&table.listening) {
                return Ok(port);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(());
            }
            table = self
                .0
                .changed
                .wait_timeout(table, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Sends `request` to the program listening on `port` and waits for its
    /// answer: `ERR_CONNECTION_REFUSED` when nothing listens there,
    /// `ERR_CONNECTION_RESET` when the server closes or the process ends
    /// first, `ERR_TIMEOUT` after `timeout`, `ERR_GUEST_ERROR` when its
    /// answer is not a response.
    pub fn fetch(
        &self,
        port: u16,
        request: HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse> {
        let answer: Receiver<Result<HttpResponse>> = {
            let mut table = self.0.table();
            if !table.listening.contains(&port) {
                return Err(Error::ConnectionRefused(format!(
                    "connect ECONNREFUSED: nothing listens on port {port}"
                )));
            }
            let (reply, answer) = mpsc::sync_channel(1);
            let id = table.next_id;
            table.next_id += 1;
            table.inbox.push_back((id, port, request, reply));
            self.0.changed.notify_all();
            answer
        };
        answer
            .recv_timeout(timeout)
            .unwrap_or_else(|error| match error {
                mpsc::RecvTimeoutError::Timeout => Err(Error::Timeout(format!(
                    "the program did not answer within {timeout:?}"
                ))),
                mpsc::RecvTimeoutError::Disconnected => Err(Error::ConnectionReset(
                    "the process ended before it answered".into(),
                )),
            })
    }
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("listening", &self.0.table().listening)
            .finish()
    }
}

/// Serves a sandbox's table to its guests as `polybox:sockets`.
pub(crate) struct SocketsCapability;

impl Capability for SocketsCapability {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        let sockets = sandbox.dispatcher.sockets().clone();
        sandbox.dispatcher.serve_internal(SPECIFIER, sockets)
    }
}
