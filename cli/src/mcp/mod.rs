//! `polybox mcp`: a Model Context Protocol server whose tool,
//! `execute_javascript`, runs code in a sandbox — the code-execution tool
//! for AI agents. Built on the official Rust MCP SDK (`rmcp`), over stdio
//! or Streamable HTTP (`--http ADDR`).
//!
//! Safe by default: with nothing configured a run gets 5 s of wall-clock
//! time, a 64 MiB heap and 1 MiB of each output stream, reaches no file
//! beyond its own `/tmp`, no network and no environment. The config file
//! (`config.rs`) and the flags grant more; host tools (`command_tool.rs`)
//! let code call the host's APIs without seeing their credentials.

mod command_tool;
mod config;
mod executor;
mod server;
mod session;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use polybox::{Backend, CallLimits, Language, Mount, RuntimeBuilder, SandboxBuilder, Secret, Tool};
use rmcp::ServiceExt;

use self::config::McpConfig;
use self::executor::Executor;
use self::server::{CodeServer, Shared};
use crate::capability_args::CapabilityArgs;
use crate::failure::Failure;
use crate::size::parse_size;

/// Arguments of `polybox mcp`.
#[derive(Args)]
pub struct McpArgs {
    /// Serve MCP's Streamable HTTP at ADDR (e.g. 127.0.0.1:8931) instead of
    /// stdio. Only requests naming a loopback host are answered, and a
    /// request with an `Origin` header (a browser's) only from an origin
    /// --allow-origin names.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// A browser origin (`http://localhost:3000`, `https://app.example.com:*`)
    /// whose pages may call the HTTP server. Repeatable; without it, every
    /// request that carries an `Origin` is refused (403), as the MCP spec
    /// asks, so that no web page can drive the server.
    #[arg(long, value_name = "ORIGIN", requires = "http")]
    allow_origin: Vec<String>,
    /// The config file (JSON): limits, mounts, env, permissions, secrets and
    /// host tools (see the README's "AI agents (MCP)"). Flags win over it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Keep one sandbox per session: top-level declarations and files
    /// persist between its calls (each call is the next line of a REPL).
    #[arg(long)]
    stateful: bool,
    /// Stop each run after this many milliseconds (default 5000).
    #[arg(long, value_name = "MS")]
    wall_ms: Option<u64>,
    /// Stop each run after this much CPU time, in milliseconds.
    #[arg(long, value_name = "MS")]
    cpu_ms: Option<u64>,
    /// How far guest memory may grow (default 64MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    heap: Option<usize>,
    /// How much of each output stream a result keeps (default 1MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    output_limit: Option<usize>,
    /// A host directory mounted writable at /output.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Drop a stateful session's sandbox after this long without a call
    /// (default 600000).
    #[arg(long, value_name = "MS")]
    idle_timeout_ms: Option<u64>,
    #[command(flatten)]
    grants: CapabilityArgs,
    /// Where sandboxes run: `wasmtime` or `hyperlight`.
    #[arg(long, default_value = "wasmtime")]
    backend: Backend,
}

/// Runs the server until its client goes (stdio) or forever (HTTP).
pub fn mcp(args: McpArgs) -> Result<(), Failure> {
    let shared = Arc::new(shared(args.config.as_deref(), &args)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Sandbox(polybox::Error::Internal(e.to_string())))?;
    runtime.block_on(async move {
        match args.http {
            None => serve_stdio(shared).await,
            Some(address) => serve_http(shared, address, &args.allow_origin).await,
        }
    })
}

/// What every session shares, from the config file and the flags.
fn shared(config: Option<&std::path::Path>, args: &McpArgs) -> Result<Shared, Failure> {
    let mut config = match config {
        Some(path) => McpConfig::load(path)?,
        None => McpConfig::default(),
    };
    let limits = &mut config.limits;
    limits.wall_ms = args.wall_ms.or(limits.wall_ms);
    limits.cpu_ms = args.cpu_ms.or(limits.cpu_ms);
    if let Some(heap) = args.heap {
        limits.heap_mib = Some(heap.div_ceil(1024 * 1024));
    }
    limits.output_bytes = args.output_limit.or(limits.output_bytes);
    config.stateful |= args.stateful;
    config.idle_timeout_ms = args.idle_timeout_ms.or(config.idle_timeout_ms);
    if args.output.is_some() {
        config.output.clone_from(&args.output);
    }

    let mut sandbox = SandboxBuilder::new()
        .backend(args.backend)
        .heap_size(config.heap_bytes());
    for mount in &config.mounts {
        sandbox = sandbox.mount(if mount.read_only {
            Mount::read_only(&mount.guest, &mount.host)
        } else {
            Mount::read_write(&mount.guest, &mount.host)
        });
    }
    if let Some(output) = &config.output {
        sandbox = sandbox.mount(Mount::read_write("/output", output));
    }
    for secret in &config.secrets {
        let value = std::env::var(&secret.env).map_err(|_| {
            Failure::Sandbox(polybox::Error::InvalidArg(format!(
                "the secret {:?} needs the variable {} set",
                secret.placeholder, secret.env
            )))
        })?;
        sandbox = sandbox.secret(Secret {
            placeholder: secret.placeholder.clone(),
            value,
            hosts: secret.hosts.clone(),
        });
    }
    let tools = config
        .tools
        .iter()
        .map(|(name, tool)| command_tool::tool(name, tool))
        .collect::<Result<Vec<_>, _>>()?;
    for tool in &tools {
        sandbox = sandbox.tool(tool.clone());
    }
    let base = config.permissions.clone().unwrap_or_default();
    let sandbox = args.grants.apply_over(sandbox, None, base)?;
    let sandbox_for_python = sandbox.clone().language(Language::Python);

    let mut builder = RuntimeBuilder::new()
        .sandbox(sandbox)
        .output_limit(config.output_bytes())
        .limits(CallLimits {
            cpu_time: config.limits.cpu_ms.map(Duration::from_millis),
            ..CallLimits::default()
        });
    for (name, value) in config
        .env
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .chain(args.grants.env())
    {
        builder = builder.env(name, value);
    }
    let executor = Executor::new(builder.clone(), config.wall())?;
    // The same sandbox in Python, built when a call first asks for it.
    let python = Executor::unbuilt(builder.sandbox(sandbox_for_python), config.wall());
    let limits = format!(
        "Each run may take {} ms of wall-clock time{}, a {} MiB heap, and keeps {} bytes of each output stream; \
         it reaches only the files, hosts and variables it was granted (by default: its own /tmp, nothing else){}.",
        config.wall().as_millis(),
        config
            .limits
            .cpu_ms
            .map(|ms| format!(" and {ms} ms of CPU time"))
            .unwrap_or_default(),
        config.heap_bytes() / (1024 * 1024),
        config.output_bytes(),
        if config.output.is_some() {
            "; files written to /output reach the host"
        } else {
            ""
        },
    );
    Ok(Shared {
        executor,
        python,
        declarations: if tools.is_empty() {
            String::new()
        } else {
            Tool::typescript(&tools)
        },
        limits,
        stateful: config.stateful,
        idle_timeout: config.idle_timeout(),
        session_budget: config.session_budget(),
    })
}

/// One session on this process's stdin and stdout, until the client goes.
async fn serve_stdio(shared: Arc<Shared>) -> Result<(), Failure> {
    let service = CodeServer::new(shared)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| internal(format!("the MCP session did not start: {e}")))?;
    service
        .waiting()
        .await
        .map_err(|e| internal(format!("the MCP session failed: {e}")))?;
    Ok(())
}

/// Streamable HTTP at `address`, each session its own [`CodeServer`].
async fn serve_http(
    shared: Arc<Shared>,
    address: SocketAddr,
    origins: &[String],
) -> Result<(), Failure> {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
    };

    let service = StreamableHttpService::new(
        move || Ok(CodeServer::new(shared.clone())),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_allowed_origins(origins.iter().cloned())
            .enforce_origin_validation(),
    );
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| internal(format!("cannot listen on {address}: {e}")))?;
    eprintln!(
        "polybox mcp: serving MCP at http://{}/",
        listener.local_addr().unwrap_or(address)
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn internal(message: String) -> Failure {
    Failure::Sandbox(polybox::Error::Internal(message))
}
