//! `polybox exec`: a program run as `node` runs it, its standard streams
//! passed through live, exiting with the program's exit code.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use polybox::{ExecOptions, ProgramKind, Runtime};

use crate::capability_args::CapabilityArgs;
use crate::failure::Failure;
use crate::sandbox_args::{LimitArgs, SandboxArgs};
use crate::source::read_bytes;

/// Arguments of `polybox exec`.
#[derive(Args)]
#[command(after_help = "\
Exit codes: the program's own (as Node.js sets them: 1 after an uncaught
exception, 13 for a top-level await that can never settle); 124 when a limit
stopped it; 134 when the guest crashed; 2 for invalid arguments and 3 for a
file that cannot be read, before the program runs.")]
pub struct ExecArgs {
    /// Run CODE instead of a file (an ES module or a CommonJS script,
    /// decided by its syntax).
    #[arg(short = 'e', long = "eval", value_name = "CODE")]
    eval: Option<String>,
    /// The program's file (unless -e is given), then its arguments
    /// (`process.argv`), optionally after `--`. A `.mjs` file is an ES module and a `.cjs` file
    /// CommonJS; otherwise the nearest package.json's "type" decides, else
    /// the syntax.
    #[arg(
        value_name = "FILE [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
    /// A variable of `process.env`, as NAME=VALUE. Repeatable; nothing else
    /// of the host's environment is passed.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// What `process.stdin` reads: a file, or `-` for this command's
    /// standard input (the default, unless it is a terminal).
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// `process.cwd()`, against which relative paths resolve (it grants
    /// nothing).
    #[arg(long, value_name = "DIR", default_value = "/")]
    cwd: String,
    #[command(flatten)]
    grants: CapabilityArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Print the run's statistics on stderr.
    #[arg(long)]
    stats: bool,
}

/// Runs the program; returns its exit code (the low 8 bits, as a shell
/// sees them).
pub fn exec(mut args: ExecArgs) -> Result<u8, Failure> {
    if let (None, Some(file)) = (&args.eval, args.args.first()) {
        args.sandbox.language_of(Path::new(file));
    }
    let (source, filename, kind, program_args) = program(&args)?;
    let mut env = args.grants.env();
    for spec in &args.env {
        let (name, value) = spec.split_once('=').ok_or_else(|| {
            Failure::Sandbox(polybox::Error::InvalidArg(format!(
                "--env {spec:?} must look like NAME=VALUE"
            )))
        })?;
        env.push((name.to_owned(), value.to_owned()));
    }
    // What reaches the log is the guest's own diagnostics, not the program's
    // output.
    let sandbox = args
        .sandbox
        .builder(&args.limits)
        .log_sink(|level, line| eprintln!("[{level}] {line}"));
    let file = (args.eval.is_none() && filename.starts_with('/')).then(|| Path::new(&filename));
    let sandbox = args.grants.apply(sandbox, file)?;
    let mut runtime = Runtime::builder()
        .sandbox(sandbox)
        .cwd(args.cwd.clone())
        .limits(args.limits.limits())
        .build()?;
    let options = ExecOptions {
        stdin: stdin(args.stdin.as_deref())?,
        env,
        args: program_args,
        filename: Some(filename),
        kind,
        // Output passes through; nothing needs keeping.
        output_limit: Some(0),
        on_stdout: Some(Box::new(|chunk| {
            pass_through(&mut std::io::stdout(), chunk)
        })),
        on_stderr: Some(Box::new(|chunk| {
            pass_through(&mut std::io::stderr(), chunk)
        })),
        ..Default::default()
    };
    let output = runtime.exec(&source, options)?;
    if args.stats {
        let stats = output.stats;
        eprintln!(
            "stats: wall {:?}, cpu {}, fuel {}, terminated by {}, exit code {}",
            stats.wall_clock,
            stats.cpu_time.map_or("n/a".into(), |t| format!("{t:?}")),
            stats.fuel_consumed.map_or("n/a".into(), |f| f.to_string()),
            stats.terminated_by.unwrap_or("-"),
            output.exit_code,
        );
    }
    if let Some(error) = output.error {
        eprintln!("polybox: {}", Failure::Sandbox(error));
    }
    Ok(output.exit_code.to_le_bytes()[0])
}

/// The program's source, the name it runs as, its kind and its arguments.
fn program(args: &ExecArgs) -> Result<(String, String, ProgramKind, Vec<String>), Failure> {
    let cwd = args.cwd.trim_end_matches('/');
    if let Some(code) = &args.eval {
        return Ok((
            code.clone(),
            format!("{cwd}/[eval]"),
            ProgramKind::Detect,
            args.args.clone(),
        ));
    }
    let Some((file, rest)) = args.args.split_first() else {
        return Err(Failure::Sandbox(polybox::Error::InvalidArg(
            "give a program: a FILE, or -e CODE".into(),
        )));
    };
    let path = Path::new(file);
    let source = String::from_utf8(read_bytes(path)?)
        .map_err(|_| Failure::File(format!("{file} is not UTF-8 text")))?;
    // `polybox exec FILE -- ARGS`: the `--` only separates.
    let rest = rest
        .strip_prefix(&["--".to_owned()][..])
        .unwrap_or(rest)
        .to_vec();
    if file == "-" {
        return Ok((source, format!("{cwd}/[stdin]"), ProgramKind::Detect, rest));
    }
    // The program runs at its host path, where its directory is mounted
    // for its imports.
    let resolved = path
        .canonicalize()
        .map_err(|e| Failure::File(format!("cannot read {file}: {e}")))?;
    let kind = ProgramKind::of_file(&resolved);
    Ok((source, resolved.to_string_lossy().into_owned(), kind, rest))
}

/// Standard input for the program: `path` (`-` is this command's own), or
/// by default this command's own unless it is a terminal.
fn stdin(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match path {
        Some(path) => read_bytes(path),
        None if std::io::stdin().is_terminal() => Ok(Vec::new()),
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| Failure::File(format!("cannot read standard input: {e}")))?;
            Ok(bytes)
        }
    }
}

/// Writes a chunk of the program's output through at once. A closed pipe
/// (`| head`) is not the program's failure: the rest is dropped.
fn pass_through(out: &mut impl Write, chunk: &[u8]) {
    let _ = out.write_all(chunk).and_then(|()| out.flush());
}
