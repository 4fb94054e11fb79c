//! Host functions: typed, fallible and raw; state that lives in the host.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use polybox::SandboxBuilder;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Order {
    item: String,
    quantity: u32,
}

#[derive(Serialize)]
struct Quote {
    item: String,
    total_cents: u64,
}

fn main() -> polybox::Result<()> {
    let mut proto = SandboxBuilder::new().build()?;
    let quotes = Arc::new(AtomicU64::new(0));
    let counter = quotes.clone();
    proto
        .host_module("shop")?
        // Typed: arguments and results go through serde.
        .register("quote", move |order: Order| {
            counter.fetch_add(1, Ordering::Relaxed);
            Quote {
                total_cents: u64::from(order.quantity) * 250,
                item: order.item,
            }
        })?
        // Fallible: an `Err` is an exception the guest can catch.
        .register_fallible("stock", |item: String| match item.as_str() {
            "apple" => Ok(12),
            other => Err(format!("unknown item {other}")),
        })?
        // Raw: the JSON array of arguments in, JSON out.
        .register_raw("echo", |args| Ok(args.to_owned()))?;

    let mut sandbox = proto.load_runtime()?;
    sandbox.add_handler(
        "order",
        r#"import * as shop from "host:shop";
           function handler(event) {
               let stock;
               try { stock = shop.stock(event.item); } catch (e) { stock = e.message; }
               return { quote: shop.quote(event), stock, echoed: shop.echo(1, "two") };
           }"#,
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    println!(
        "{}",
        loaded.handle_event("order", r#"{"item":"apple","quantity":3}"#, None)?
    );
    println!(
        "{}",
        loaded.handle_event("order", r#"{"item":"pear","quantity":1}"#, None)?
    );
    println!(
        "quotes served by the host: {}",
        quotes.load(Ordering::Relaxed)
    );
    Ok(())
}
