use polybox::SandboxBuilder;
use std::time::Instant;
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n = 2000;
    if mode == "cold" {
        let t = Instant::now();
        for _ in 0..n {
            let mut sb = SandboxBuilder::new()
                .build()
                .unwrap()
                .load_runtime()
                .unwrap();
            sb.add_handler("echo", "function handler(e) { return e; }")
                .unwrap();
            let mut l = sb.get_loaded_sandbox().unwrap();
            l.handle_event("echo", r#"{"x":1}"#, None).unwrap();
        }
        println!("cold {:?}/iter", t.elapsed() / n);
    } else {
        let mut sb = SandboxBuilder::new()
            .build()
            .unwrap()
            .load_runtime()
            .unwrap();
        sb.add_handler("echo", "function handler(e) { return e; }")
            .unwrap();
        let mut l = sb.get_loaded_sandbox().unwrap();
        l.handle_event("echo", "{}", None).unwrap();
        let s = l.snapshot().unwrap();
        let t = Instant::now();
        for _ in 0..n {
            l.restore(&s).unwrap();
            l.handle_event("echo", r#"{"x":1}"#, Some(false)).unwrap();
        }
        println!("restore+echo {:?}/iter", t.elapsed() / n);
    }
}
