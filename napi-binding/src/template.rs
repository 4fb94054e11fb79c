//! The native `Template`: `polybox::Template` for Node.js. Built from a
//! builder and a blueprint (`blueprint.rs`), or read from a file with the
//! blueprint's host functions; creates loaded sandboxes and pools.

use std::path::PathBuf;

use napi::bindgen_prelude::Undefined;
use napi_derive::napi;
use polybox::{CacheStatus, Template};

use crate::args::{Options, Text, options as options_of, property, string, string_property};
use crate::blueprint::NativeBlueprint;
use crate::builder::NativeSandboxBuilder;
use crate::error::Result;
use crate::job::Job;
use crate::loaded::NativeLoadedSandbox;

/// The options `buildTemplate` takes.
const BUILD_OPTIONS: &[&str] = &["cacheDir"];

/// Builds a template of `builder`'s sandboxes (the builder is consumed)
/// with `blueprint`'s handlers, modules and host functions. `cacheDir`:
/// where built templates are kept, keyed by their inputs (none by default).
#[napi(
    ts_args_type = "builder: NativeSandboxBuilder, blueprint: NativeBlueprint, options?: object | null",
    ts_return_type = "Promise<NativeTemplate>"
)]
pub fn build_template(
    builder: &mut NativeSandboxBuilder,
    blueprint: &NativeBlueprint,
    options: Option<Options<'_>>,
) -> Result<Job<Template, NativeTemplate>> {
    let builder = builder.take()?;
    let parts = blueprint.take();
    let cache = match options_of(options, BUILD_OPTIONS)? {
        Some(options) => property(&options, "cacheDir")?
            .map(|dir| string_property("cacheDir", dir).map(PathBuf::from))
            .transpose()?,
        None => None,
    };
    let build = move || {
        let template = parts.template(parts.proto(builder?)?);
        match cache {
            Some(dir) => template.cache_dir(dir).build(),
            None => template.build(),
        }
    };
    Ok(Job::new(build, NativeTemplate::new))
}

/// Reads the template file at `path` for `builder`'s sandboxes (consumed)
/// with `blueprint`'s host functions.
#[napi(
    ts_args_type = "path: string, builder: NativeSandboxBuilder, blueprint: NativeBlueprint",
    ts_return_type = "Promise<NativeTemplate>"
)]
pub fn load_template(
    path: Text<'_>,
    builder: &mut NativeSandboxBuilder,
    blueprint: &NativeBlueprint,
) -> Result<Job<Template, NativeTemplate>> {
    let path = string("path", path)?;
    let builder = builder.take()?;
    let parts = blueprint.take();
    let load = move || Template::load(&path, parts.proto(builder?)?);
    Ok(Job::new(load, NativeTemplate::new))
}

/// Polybox's cache directory for templates; `null` when it is off.
#[napi]
pub fn default_template_cache_dir() -> Option<String> {
    polybox::template::default_cache_dir().map(|dir| dir.to_string_lossy().into_owned())
}

/// A sandbox captured once, from which loaded sandboxes are created.
#[napi]
pub struct NativeTemplate {
    template: Template,
}

impl NativeTemplate {
    fn new(template: Template) -> Self {
        Self { template }
    }

    pub(crate) fn template(&self) -> &Template {
        &self.template
    }
}

#[napi]
impl NativeTemplate {
    /// A new loaded sandbox started from the template, on a worker thread.
    #[napi(ts_return_type = "Promise<NativeLoadedSandbox>")]
    pub fn create(&self) -> Job<polybox::LoadedJSSandbox, NativeLoadedSandbox> {
        let template = self.template.clone();
        Job::new(move || template.create(), NativeLoadedSandbox::new)
    }

    /// Writes the template to `path` atomically, on a worker thread.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn save(&self, path: Text<'_>) -> Result<Job<(), Undefined>> {
        let path = string("path", path)?;
        let template = self.template.clone();
        Ok(Job::new(move || template.save(&path), |()| ()))
    }

    /// The handlers every sandbox of the template has loaded.
    #[napi(getter)]
    pub fn handlers(&self) -> Vec<String> {
        self.template.handlers().map(str::to_owned).collect()
    }

    /// `"disabled"`, `"hit"`, `"stored"` or `"unusable"`.
    #[napi(getter)]
    pub fn cache_status(&self) -> &'static str {
        status_name(self.template.cache_status())
    }

    /// Why the cache could not be used, when it could not.
    #[napi(getter)]
    pub fn cache_problem(&self) -> Option<String> {
        problem(self.template.cache_status())
    }
}

/// A cache status as `lib.js` and `isola.js` name it.
pub(crate) fn status_name(status: &CacheStatus) -> &'static str {
    match status {
        CacheStatus::Disabled => "disabled",
        CacheStatus::Hit => "hit",
        CacheStatus::Stored => "stored",
        CacheStatus::Unusable(_) => "unusable",
    }
}

/// Why the cache could not be used, when it could not.
pub(crate) fn problem(status: &CacheStatus) -> Option<String> {
    match status {
        CacheStatus::Unusable(why) => Some(why.clone()),
        _ => None,
    }
}
