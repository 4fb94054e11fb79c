//! Pools of a template's sandboxes serving an HTTP-style JSON handler (a
//! request event in, a response object out), per strategy, the way hyperlight-bench compares
//! reuse, restore and new: each call's latency (p50 and p99) from one
//! client, and requests per second from two. hyperlight-bench's published
//! p50 figures (8 vCPU AMD EPYC; this machine has 2 cores) are in the row
//! names for reference: reuse 0.31–0.61 ms, restore 2.14–2.79 ms, new
//! 61.6–167 ms.

use std::time::{Duration, Instant};

use polybox::{Pool, SandboxBuilder, Strategy, Template};

use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, Summary, latency_us};

/// The handler: routes by path, reads the JSON body, answers JSON.
const HTTP_HANDLER: &str = "function handler(request) {
    const body = JSON.parse(request.body);
    const total = body.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
    return {
        status: request.path === '/checkout' ? 200 : 404,
        headers: { 'content-type': 'application/json', 'x-request-id': request.headers['x-request-id'] },
        body: JSON.stringify({ total, count: body.items.length, currency: body.currency }),
    };
}";

const REQUEST: &str = r#"{"method":"POST","path":"/checkout","headers":{"content-type":"application/json","x-request-id":"abc-123"},"body":"{\"currency\":\"EUR\",\"items\":[{\"price\":3.5,\"quantity\":2},{\"price\":10,\"quantity\":1}]}"}"#;

/// A pool of two sandboxes of the handler's template; or, for the
/// reference row, built from scratch for every call.
fn pool(strategy: Strategy, from_template: bool) -> Pool {
    let builder = if from_template {
        let template = Template::builder(SandboxBuilder::new().build().unwrap())
            .handler("http", HTTP_HANDLER)
            .build()
            .unwrap();
        Pool::of(template)
    } else {
        Pool::builder(|| {
            let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
            sandbox.add_handler("http", HTTP_HANDLER)?;
            Ok(sandbox.get_loaded_sandbox()?)
        })
    };
    builder.size(2).strategy(strategy).build().unwrap()
}

fn call(pool: &Pool) {
    let response = pool.call("http", REQUEST).unwrap();
    assert!(response.contains(r#"\"total\":17"#), "{response}");
}

/// Requests per second from two client threads over `span`, `runs` times.
fn throughput(pool: &Pool, runs: usize, span: Duration) -> Summary {
    Summary::of_runs(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                let served: usize = std::thread::scope(|scope| {
                    let clients: Vec<_> = (0..2)
                        .map(|_| {
                            scope.spawn(|| {
                                let mut served = 0;
                                while start.elapsed() < span {
                                    call(pool);
                                    served += 1;
                                }
                                served
                            })
                        })
                        .collect();
                    clients.into_iter().map(|c| c.join().unwrap()).sum()
                });
                served as f64 / start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Latency and throughput per strategy (`new_calls` for the pool that
/// builds a sandbox from scratch per call).
pub fn measure(calls: Plan, new_calls: Plan, runs: usize, span: Duration) -> Vec<Measurement> {
    let mut rows = Vec::new();
    for (strategy, name, published, plan, from_template) in [
        (Strategy::Reuse, "reuse", "0.31–0.61 ms", calls, true),
        (Strategy::Restore, "restore", "2.14–2.79 ms", calls, true),
        (Strategy::New, "new", "61.6–167 ms", calls, true),
        (
            Strategy::New,
            "new, no template (runtime + handler per call)",
            "61.6–167 ms",
            new_calls,
            false,
        ),
    ] {
        let pool = pool(strategy, from_template);
        call(&pool);
        let latency = latency_us(plan, || call(&pool));
        let mut row = Measurement::new(
            "pools",
            format!("{name}: HTTP-style JSON call (hyperlight-bench p50 {published})"),
            Unit::Micros,
            latency,
        );
        if strategy == Strategy::Restore {
            row = row.target(Target::AtMost(20.0));
        }
        rows.push(row);
        rows.push(Measurement::new(
            "pools",
            format!("{name}: requests per second, 2 clients"),
            Unit::PerSecond,
            throughput(&pool, runs, span),
        ));
    }
    rows
}
