//! Templates: a sandbox created from a template to its first result (the
//! capture mapped copy-on-write, nothing compiled or evaluated), beside the
//! same from the builder; a template read from disk in this process; and
//! `polybox run` as a whole new process, with and without a template; and a
//! session (isola's model) created from its template to its first call.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use polybox::{Argument, CallLimits, RuntimeBuilder, SandboxBuilder, SessionTemplate, Template};

use super::{ECHO, EVENT};
use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, Summary, latency_us, micros};

/// A handler with a module, so that the builder path has real work to skip.
const MODULE: &str = "export const shape = (e) => ({ ...e, seen: true });";
const HANDLER: &str =
    "import { shape } from 'user:shape';\nfunction handler(e) { return shape(e); }";

fn template() -> Template {
    Template::builder(SandboxBuilder::new().build().unwrap())
        .module("shape", MODULE, None)
        .handler("echo", HANDLER)
        .handler("plain", ECHO)
        .build()
        .unwrap()
}

pub fn measure(plan: Plan, first: Plan, polybox: Option<&Path>) -> Vec<Measurement> {
    let template = template();
    let created = latency_us(plan, || {
        let mut sandbox = template.create().unwrap();
        sandbox.handle_event("echo", EVENT, None).unwrap();
        sandbox
    });
    let built = latency_us(first, || {
        let mut sandbox = SandboxBuilder::new()
            .build()
            .unwrap()
            .load_runtime()
            .unwrap();
        sandbox.add_module("shape", MODULE, None).unwrap();
        sandbox.add_handler("echo", HANDLER).unwrap();
        let mut loaded = sandbox.get_loaded_sandbox().unwrap();
        loaded.handle_event("echo", EVENT, None).unwrap();
        loaded
    });
    let sessions = SessionTemplate::builder(RuntimeBuilder::new())
        .prelude("function add(a, b) { return a + b; }")
        .build()
        .unwrap();
    let args = [Argument::Json("1".into()), Argument::Json("2".into())];
    let session = latency_us(first, || {
        let mut session = sessions.create(RuntimeBuilder::new()).unwrap();
        let sum = session
            .call("add", &args, &[], &CallLimits::default())
            .unwrap();
        assert_eq!(sum, "3");
        session
    });
    let dir = std::env::temp_dir().join(format!("polybox-bench-templates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("echo.pbx");
    template.save(&file).unwrap();
    let loaded = latency_us(first, || {
        Template::load(&file, SandboxBuilder::new().build().unwrap()).unwrap()
    });
    let mut rows = vec![
        Measurement::new(
            "templates",
            "Template::create + first call",
            Unit::Micros,
            created,
        )
        .target(Target::AtMost(30.0)),
        Measurement::new(
            "templates",
            "the same from the builder (runtime, module, handler loaded)",
            Unit::Micros,
            built,
        ),
        Measurement::new(
            "templates",
            "SessionTemplate::create + first call (isola's model)",
            Unit::Micros,
            session,
        ),
        Measurement::new(
            "templates",
            format!(
                "Template::load of a {:.1} MiB file (read, SHA-256, copy)",
                std::fs::metadata(&file).unwrap().len() as f64 / (1 << 20) as f64
            ),
            Unit::Micros,
            loaded,
        )
        .target(Target::AtMost(5000.0)),
    ];
    if let Some(polybox) = polybox {
        let handler = dir.join("echo.js");
        std::fs::write(&handler, ECHO).unwrap();
        let app = dir.join("app.pbx");
        let status = Command::new(polybox)
            .args(["template", "build"])
            .arg(&handler)
            .arg("-o")
            .arg(&app)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let process = |args: &[&std::ffi::OsStr]| {
            Summary::of_samples(vec![
                (0..first.runs * first.per_run)
                    .map(|_| {
                        let start = Instant::now();
                        let output = Command::new(polybox).args(args).output().unwrap();
                        assert!(output.status.success());
                        micros(start.elapsed())
                    })
                    .collect(),
            ])
        };
        let with = process(&["run".as_ref(), "--template".as_ref(), app.as_os_str()]);
        let without = process(&["run".as_ref(), handler.as_os_str()]);
        rows.push(Measurement::new(
            "templates",
            "new process: polybox run --template app.pbx (exec to exit)",
            Unit::Micros,
            with,
        ));
        rows.push(Measurement::new(
            "templates",
            "new process: polybox run handler.js (exec to exit)",
            Unit::Micros,
            without,
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    rows
}
