//! The global `URL` (`url.js`), parsed by Rust's `url` crate (the WHATWG
//! URL Standard, as servo's engine parses it) instead of a JavaScript port:
//! core-js's parser took about 95 µs per URL in QuickJS, a request
//! handler's largest cost; this one takes a few. The class is made the
//! first time a script reads `URL`, like the other web globals: a sandbox
//! that never uses it carries none of it in its heap.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rquickjs::{Ctx, Function, Object, Result, Value};
use url::{Url, quirks};

use crate::script::script_function;

const URL_SOURCE: &str = include_str!("url.js");

/// Replaces the global `URL` with what `make` returns, the first time it is read.
const ON_USE: &str = r#"(function (make) {
  "use strict";
  const define = (value) =>
    Object.defineProperty(globalThis, "URL", { value, writable: true, configurable: true });
  Object.defineProperty(globalThis, "URL", {
    get() {
      define(make());
      return globalThis.URL;
    },
    set: define,
    configurable: true,
  });
})"#;

/// Defines the global `URL`, made the first time it is read.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    script_function(ctx, "polybox:url-on-use", ON_USE)?.call((Function::new(ctx.clone(), make)?,))
}

/// Evaluates `url.js`; returns the class.
fn make<'js>(ctx: Ctx<'js>) -> Result<Value<'js>> {
    let natives = Object::new(ctx.clone())?;
    natives.set("parse", Function::new(ctx.clone(), parse)?)?;
    natives.set("update", Function::new(ctx.clone(), update)?)?;
    script_function(&ctx, "polybox:url", URL_SOURCE)?.call((natives,))
}

/// `input` parsed against `base`: its parts (see `parts`), or nothing when
/// either is not a valid URL.
fn parse(input: String, base: Option<String>) -> Option<Vec<String>> {
    let base = match base {
        Some(base) => Some(Url::parse(&base).ok()?),
        None => None,
    };
    Url::options()
        .base_url(base.as_ref())
        .parse(&input)
        .ok()
        .map(|url| parts(&url))
}

/// The URL `href` with its `part` (not `href`: that is a new parse) set to
/// `value` as the URL setters do: a value a setter refuses leaves the URL
/// as it was.
fn update(href: String, part: String, value: String) -> Option<Vec<String>> {
    let mut url = Url::parse(&href).ok()?;
    // The setters' failures are ignored, as the standard says.
    let _ = match part.as_str() {
        "protocol" => quirks::set_protocol(&mut url, &value),
        "username" => quirks::set_username(&mut url, &value),
        "password" => quirks::set_password(&mut url, &value),
        "host" => quirks::set_host(&mut url, &value),
        "hostname" => quirks::set_hostname(&mut url, &value),
        "port" => quirks::set_port(&mut url, &value),
        "pathname" => {
            quirks::set_pathname(&mut url, &value);
            Ok(())
        }
        "search" => {
            quirks::set_search(&mut url, &value);
            Ok(())
        }
        "hash" => {
            quirks::set_hash(&mut url, &value);
            Ok(())
        }
        _ => Err(()),
    };
    Some(parts(&url))
}

/// `href`, `origin`, `protocol`, `username`, `password`, `host`,
/// `hostname`, `port`, `pathname`, `search`, `hash`, in that order.
fn parts(url: &Url) -> Vec<String> {
    [
        quirks::href(url),
        &quirks::origin(url),
        quirks::protocol(url),
        quirks::username(url),
        quirks::password(url),
        quirks::host(url),
        quirks::hostname(url),
        quirks::port(url),
        quirks::pathname(url),
        quirks::search(url),
        quirks::hash(url),
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}
