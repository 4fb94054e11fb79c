//! The other process of the cross-process template test:
//! `template_serve FILE HANDLER EVENT` loads the template FILE for
//! sandboxes with the host function `math.add` registered, calls HANDLER
//! with EVENT in two sandboxes created from it and prints both results, one
//! per line. Errors go to standard error as `CODE: message`, exit code 1.

use std::process::ExitCode;

use polybox::{SandboxBuilder, Template};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, handler, event] = args.as_slice() else {
        eprintln!("usage: template_serve FILE HANDLER EVENT");
        return ExitCode::from(2);
    };
    let serve = || -> polybox::Result<()> {
        let mut proto = SandboxBuilder::new().build()?;
        proto.register("math", "add", |a: f64, b: f64| a + b)?;
        let template = Template::load(file, proto)?;
        for _ in 0..2 {
            println!("{}", template.create()?.handle_event(handler, event, None)?);
        }
        Ok(())
    };
    match serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}: {error}", error.code());
            ExitCode::from(1)
        }
    }
}
