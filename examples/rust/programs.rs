//! Programs: code run as `node` runs a file, each as a fresh process, with
//! standard streams, an exit code and limits.

use std::time::Duration;

use polybox::{CallLimits, ExecOptions, Runtime};

fn main() -> polybox::Result<()> {
    // Everything a program sees of its environment is granted here.
    let mut runtime = Runtime::builder().env("GREETING", "Hello").build()?;

    // Standard input in, output streamed out while the program runs.
    let output = runtime.exec(
        r#"let text = '';
           for await (const chunk of process.stdin) text += chunk;
           const words = text.split(/\s+/).filter(Boolean);
           console.log(`${process.env.GREETING}! ${words.length} words`);
           if (words.length > 3) process.exitCode = 2;"#,
        ExecOptions {
            stdin: b"the quick brown fox".to_vec(),
            on_stdout: Some(Box::new(|chunk| {
                print!("live: {}", String::from_utf8_lossy(chunk))
            })),
            ..Default::default()
        },
    )?;
    println!("exit code {}", output.exit_code);

    // A program's value: what it passes to __return, or its default export.
    let run = runtime.run(
        "import { setTimeout as sleep } from 'node:timers/promises';\n\
         await sleep(5);\n\
         export default { answer: 6 * 7 };",
        ExecOptions::default(),
    )?;
    println!("value {}", run.value.as_deref().unwrap_or("none"));

    // A limit ends a program that would run too long, with its output so far.
    let stopped = runtime.exec(
        "console.log('working'); setInterval(() => {}, 1000);",
        ExecOptions {
            limits: CallLimits {
                wall_clock: Some(Duration::from_millis(100)),
                ..Default::default()
            },
            ..Default::default()
        },
    )?;
    println!(
        "stopped by {} with exit code {} after printing {:?}",
        stopped.stats.terminated_by.unwrap_or("nothing"),
        stopped.exit_code,
        String::from_utf8_lossy(&stopped.stdout)
    );
    Ok(())
}
