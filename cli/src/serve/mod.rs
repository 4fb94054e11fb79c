//! `polybox serve`: an HTTP/1.1 server (hyper, on tokio) whose requests a
//! pool of sandboxes answers, each with the app's `fetch` handler.
//!
//! # Why it is built this way
//!
//! - **A pool of one template**: every sandbox starts from the app loaded
//!   once (created in microseconds), and `--strategy` says what a request
//!   may see of the ones before it (`restore`, the default: nothing).
//! - **Waiting costs no thread**: a request waits for a sandbox on an
//!   async semaphore, one permit per sandbox; a request holding one runs
//!   its call on its worker thread (`block_in_place`).
//! - **Memory stays bounded however many clients arrive**: a request takes
//!   a place among `--pool` + `--queue` before its body is read (past them
//!   it gets 503 at once), so at most that many bodies of `--max-body` are
//!   in memory; and at most `--max-connections` connections are open (the
//!   next wait in the kernel's backlog).
//! - **Every limit is the sandbox's**: a request stopped by `--timeout-ms`
//!   (or `--cpu-ms`, `--fuel`) gets 504 and its sandbox goes back to the
//!   template's start; other requests do not notice. A program app's
//!   process that does not answer in time (504) or ends (502) is replaced.
//! - **Slow or large input is refused before a sandbox sees it**: headers
//!   must arrive within `--header-timeout-ms` and fit `--max-header-bytes`
//!   (hyper answers 408/431), bodies within `--body-timeout-ms` and
//!   `--max-body` (408/413).
//! - **Loopback by default**, and SIGINT/SIGTERM stop accepting, let
//!   in-flight requests finish, then exit.

mod app;
mod exchange;
mod metrics;
mod programs;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::capability_args::CapabilityArgs;
use crate::failure::{EXIT_CODES, Failure};
use crate::sandbox_args::{LimitArgs, SandboxArgs};
use crate::size::parse_size;
use app::App;
use exchange::Exchange;

/// How long in-flight requests may take to finish after a stop signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Arguments of `polybox serve`.
#[derive(Args)]
#[command(after_help = EXIT_CODES)]
pub struct ServeArgs {
    /// The app: an ES module whose default export has `fetch(request, env,
    /// ctx)`, a script that calls `addEventListener("fetch", ...)`, or a
    /// program that starts a server (`http.createServer(...).listen(port)`:
    /// a file that calls `createServer` and has no default export), run as
    /// --pool processes, or a component in the `wasi:http/proxy` world (as
    /// Spin runs them). Not with --template.
    #[arg(required_unless_present = "template", conflicts_with = "template")]
    pub app: Option<PathBuf>,
    /// Serve a template file (`polybox template build`) instead.
    #[arg(long, value_name = "FILE.pbx", conflicts_with = "modules")]
    pub template: Option<PathBuf>,
    /// Which of the template's handlers serves (needed when it has several).
    #[arg(long, value_name = "NAME", requires = "template")]
    pub name: Option<String>,
    /// A JavaScript module the app may import, as `NAMESPACE:NAME=FILE`
    /// (or `NAME=FILE` for `user`). Repeatable.
    #[arg(long = "module", value_name = "NS:NAME=FILE")]
    pub modules: Vec<String>,
    /// A component whose exports the app imports as `host:NAME`, as
    /// `NAME=FILE`. Repeatable.
    #[arg(long = "host-component", value_name = "NAME=FILE")]
    pub host_components: Vec<String>,
    /// The address to listen on (loopback unless you say otherwise).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// The port (0 picks a free one; the address is printed on stderr).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// How many sandboxes answer requests at once.
    #[arg(long, default_value_t = 2)]
    pub pool: usize,
    /// What a request sees of the requests before it (default `restore`;
    /// with --host-component, `restore` is served as `new`, since host
    /// components keep state a restore does not reset; a program's server
    /// keeps its state: `reuse`).
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// How many requests may wait for a sandbox (their bodies read or
    /// arriving); more get 503.
    #[arg(long, default_value_t = 1024)]
    pub queue: usize,
    /// How many connections may be open at once; more wait to be accepted.
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
    /// The largest request body (e.g. 1MiB); larger ones get 413.
    #[arg(long = "max-body", value_name = "SIZE", value_parser = parse_size, default_value = "1MiB")]
    pub max_body_bytes: usize,
    /// The largest request head (request line and headers); larger ones
    /// get 431.
    #[arg(long = "max-header-bytes", value_name = "SIZE", value_parser = parse_size, default_value = "16KiB")]
    pub max_header_bytes: usize,
    /// How long the request head may take to arrive.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// How long the request body may take to arrive.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub body_timeout_ms: u64,
    /// Serve Prometheus metrics on this port (on --host) at any path.
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// No access log line per request.
    #[arg(long)]
    pub quiet: bool,
    /// The limits of each request.
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    #[command(flatten)]
    pub capabilities: CapabilityArgs,
}

/// What a pooled sandbox keeps between requests.
#[derive(Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    /// Everything (one tenant's requests; fastest).
    Reuse,
    /// Nothing: restored to the app's start after every request.
    Restore,
    /// Nothing: a new sandbox per request.
    New,
}

impl From<StrategyArg> for polybox::Strategy {
    fn from(strategy: StrategyArg) -> Self {
        match strategy {
            StrategyArg::Reuse => Self::Reuse,
            StrategyArg::Restore => Self::Restore,
            StrategyArg::New => Self::New,
        }
    }
}

/// Serves until SIGINT or SIGTERM.
pub fn serve(args: ServeArgs) -> Result<(), Failure> {
    if args.pool == 0 {
        return Err(Failure::Sandbox(polybox::Error::InvalidArg(
            "--pool must be at least 1".into(),
        )));
    }
    let prometheus = args.metrics_port.map(|_| metrics::install()).transpose()?;
    let app = App::load(&args)?;
    let exchange = Arc::new(Exchange {
        sandboxes: Semaphore::new(args.pool),
        admitted: Semaphore::new(args.pool.saturating_add(args.queue)),
        max_body_bytes: args.max_body_bytes,
        body_timeout: Duration::from_millis(args.body_timeout_ms),
        access_log: !args.quiet,
        app,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::File(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(async move {
        let (listener, local) = bind(SocketAddr::new(args.host, args.port)).await?;
        if let (Some(handle), Some(port)) = (prometheus, args.metrics_port) {
            let (metrics_listener, local) = bind(SocketAddr::new(args.host, port)).await?;
            eprintln!("metrics on http://{local}/metrics");
            tokio::spawn(metrics::serve(metrics_listener, handle));
        }
        let (what, strategy) = match &exchange.app {
            App::Handler { handler, .. } => (handler.clone(), app::handler_strategy(&args)),
            App::Program(_) => ("a program".to_owned(), StrategyArg::Reuse),
        };
        eprintln!(
            "serving {what} on http://{local} ({} sandboxes, strategy {})",
            args.pool,
            strategy
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default(),
        );
        accept(listener, local, exchange, &args).await;
        Ok(())
    })
}

/// A listener on `address`, and the address it took (its port, for 0).
async fn bind(address: SocketAddr) -> Result<(TcpListener, SocketAddr), Failure> {
    let failed = |e: std::io::Error| Failure::File(format!("cannot listen on {address}: {e}"));
    let listener = TcpListener::bind(address).await.map_err(failed)?;
    let local = listener.local_addr().map_err(failed)?;
    Ok((listener, local))
}

/// Accepts connections until a stop signal, then waits for those in flight.
async fn accept(
    listener: TcpListener,
    local: SocketAddr,
    exchange: Arc<Exchange>,
    args: &ServeArgs,
) {
    let mut connection = http1::Builder::new();
    connection
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(args.header_timeout_ms))
        .max_buf_size(args.max_header_bytes.max(8192));
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        let open = tokio::select! {
            open = connections.clone().acquire_owned() => open.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let exchange = exchange.clone();
                let service = service_fn(move |request| exchange.clone().serve(peer, local, request));
                let served = graceful.watch(connection.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _open = open;
                    // Malformed requests and timeouts end the connection;
                    // hyper has answered what can be answered.
                    let _ = served.await;
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    eprintln!("stopping: waiting for {} connections", graceful.count());
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("stopped with requests still running after {DRAIN_TIMEOUT:?}");
    }
}

/// Resolves at the first SIGINT or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}
