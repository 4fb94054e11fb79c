use polybox::SandboxBuilder;
#[test]
fn smoke() {
    let t = std::time::Instant::now();
    let mut proto = SandboxBuilder::new()
        .log_sink(|l, m| eprintln!("[{l}] {m}"))
        .build()
        .unwrap();
    proto
        .host_module("math")
        .unwrap()
        .register("add", |a: f64, b: f64| a + b)
        .unwrap();
    let mut sb = proto.load_runtime().unwrap();
    eprintln!("load {:?}", t.elapsed());
    sb.add_module(
        "c",
        "export let n = 0; export function inc() { return ++n; }",
        None,
    )
    .unwrap();
    sb.add_handler("greet", "import * as math from 'host:math'; import {inc} from 'user:c'; import { createHash } from 'crypto';\nfunction handler(e) { console.log('hi', e, [1,2]); e.message = 'Hello, ' + e.name + '!'; e.sum = math.add(2, 3); e.n = inc(); e.h = createHash('sha256').update('abc').digest('hex'); e.t = typeof Date.now(); e.te = new TextDecoder().decode(new TextEncoder().encode('héllo')); return e; }").unwrap();
    sb.add_handler(
        "rec",
        "function handler(e) { function f(n) { return f(n+1) + 1; } return f(0); }",
    )
    .unwrap();
    sb.add_handler(
        "asy",
        "async function handler(e) { await null; return {ok: await Promise.resolve(1)}; }",
    )
    .unwrap();
    let mut l = sb.get_loaded_sandbox().unwrap();
    eprintln!("loaded {:?}", t.elapsed());
    println!(
        "{}",
        l.handle_event("greet", r#"{"name":"World"}"#, None)
            .unwrap()
    );
    println!(
        "{}",
        l.handle_event("greet", r#"{"name":"World"}"#, None)
            .unwrap()
    );
    println!("{}", l.handle_event("asy", r#"{}"#, None).unwrap());
    let t2 = std::time::Instant::now();
    for _ in 0..1000 {
        l.handle_event("asy", "{}", Some(false)).unwrap();
    }
    eprintln!("1000 calls {:?}", t2.elapsed());
    let e = l.handle_event("rec", r#"{}"#, None).unwrap_err();
    println!("{:?} {}", e.code(), e);
    let e = l.handle_event("greet", r#"{}"#, None).unwrap_err();
    println!("{:?} {}", e.code(), e);
}
