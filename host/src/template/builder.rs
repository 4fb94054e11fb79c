//! [`TemplateBuilder`]: what a template holds, given as data, so that its
//! digest can key a cache: building the same template twice loads the
//! first build's file instead of evaluating anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Template;
use super::file::{FORMAT, Needs};
use crate::cache_dir::cache_dir;
use crate::error::Result;
use crate::monitor::CallLimits;
use crate::sandbox::{JSSandbox, ProtoJSSandbox, Script};

/// Where a built template came from, and whether the cache kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// No cache directory was given: the template was built.
    Disabled,
    /// Loaded from the cache: nothing was compiled or evaluated.
    Hit,
    /// Built, and written to the cache for the next build.
    Stored,
    /// Built, but the cache could not be used (why, in words); the
    /// template works all the same.
    Unusable(String),
}

/// Builds a [`Template`]: the handlers and modules every sandbox of it
/// starts with loaded.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// let dir = std::env::temp_dir().join(format!("polybox-doc-{}", std::process::id()));
/// let build = || {
///     polybox::Template::builder(polybox::SandboxBuilder::new().build()?)
///         .module("greeting", "export const greet = (n) => `hello ${n}`;", None)
///         .handler("hello", "import { greet } from 'user:greeting';\nfunction handler(e) { return greet(e.name); }")
///         .cache_dir(&dir)
///         .build()
/// };
/// let first = build()?;
/// assert_eq!(first.cache_status(), &polybox::CacheStatus::Stored);
/// let second = build()?;
/// assert_eq!(second.cache_status(), &polybox::CacheStatus::Hit);
/// assert_eq!(second.create()?.handle_event("hello", r#"{"name":"you"}"#, None)?, r#""hello you""#);
/// # std::fs::remove_dir_all(&dir).ok(); Ok(()) }
/// ```
pub struct TemplateBuilder {
    proto: ProtoJSSandbox,
    handlers: BTreeMap<String, String>,
    /// By `(namespace, name)`; `None` is the default namespace.
    modules: BTreeMap<(Option<String>, String), String>,
    limits: CallLimits,
    cache: Option<PathBuf>,
}

impl TemplateBuilder {
    pub(super) fn new(proto: ProtoJSSandbox) -> Self {
        Self {
            proto,
            handlers: BTreeMap::new(),
            modules: BTreeMap::new(),
            limits: CallLimits::default(),
            cache: None,
        }
    }

    /// Adds (or replaces) handler `name`, as
    /// [`JSSandbox::add_handler`] does.
    pub fn handler(mut self, name: &str, script: impl Into<Script>) -> Self {
        self.handlers
            .insert(name.to_owned(), script.into().into_source());
        self
    }

    /// Adds (or replaces) a module, as [`JSSandbox::add_module`] does.
    pub fn module(
        mut self,
        name: &str,
        source: impl Into<String>,
        namespace: Option<&str>,
    ) -> Self {
        self.modules.insert(
            (namespace.map(str::to_owned), name.to_owned()),
            source.into(),
        );
        self
    }

    /// Bounds the evaluation of the handlers' top-level code (unbounded by
    /// default, as [`JSSandbox::get_loaded_sandbox`] is).
    pub fn load_limits(mut self, limits: CallLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Keeps built templates in `dir`, under the digest of everything that
    /// goes into them (the JS guest, the settings, the host modules, every
    /// handler and module), so a second build of the same template reads
    /// the file instead. A directory that cannot be read or written is
    /// skipped ([`CacheStatus::Unusable`]). [`default_cache_dir`] is a good
    /// place.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// Loads the handlers and modules into a new sandbox and captures it,
    /// or reads the capture from the cache.
    ///
    /// Fails as [`JSSandbox::add_handler`], [`JSSandbox::add_module`] and
    /// [`JSSandbox::get_loaded_sandbox_with_monitor`] fail (bad names,
    /// syntax errors, a missing `handler` function, top-level code over the
    /// load limits), and with `ERR_INVALID_ARG` on the Hyperlight backend.
    pub fn build(self) -> Result<Template> {
        crate::backend::templates_supported(self.proto.config().backend)?;
        let cached = self.cache.as_ref().map(|dir| dir.join(self.file_name()));
        if let Some(path) = cached.as_ref().filter(|path| path.exists()) {
            match Template::load(path, self.proto.clone()) {
                Ok(mut template) => {
                    template.cache = CacheStatus::Hit;
                    return Ok(template);
                }
                // Rebuilt and written again below.
                Err(error) => tracing::warn!(%error, "ignoring an unusable cached template"),
            }
        }
        let mut template = self.capture()?;
        template.cache = store(cached.as_deref(), |path| template.save(path));
        Ok(template)
    }

    fn capture(&self) -> Result<Template> {
        let mut sandbox = JSSandbox::new(self.proto.assemble(None)?);
        for ((namespace, name), source) in &self.modules {
            sandbox.add_module(name, source.as_str(), namespace.as_deref())?;
        }
        for (name, source) in &self.handlers {
            sandbox.add_handler(name, source.as_str())?;
        }
        let mut loaded = sandbox.get_loaded_sandbox_with_monitor(&self.limits)?;
        Ok(Template {
            proto: Arc::new(self.proto.clone()),
            snapshot: loaded.snapshot()?,
            cache: CacheStatus::Disabled,
        })
    }

    /// The cache file's name: the digest of every input.
    fn file_name(&self) -> String {
        let inputs = serde_json::json!({
            "format": FORMAT,
            "needs": Needs::of(&self.proto),
            "handlers": self.handlers,
            "modules": self.modules.iter().collect::<Vec<_>>(),
        });
        let digest = Sha256::digest(inputs.to_string());
        format!("{}.pbx", &hex::encode(digest)[..32])
    }
}

/// Writes a built template to its cache file at `path` (if there is a
/// cache) with `save`, and says how that went; a failure is a warning.
pub(crate) fn store(path: Option<&Path>, save: impl FnOnce(&Path) -> Result<()>) -> CacheStatus {
    let Some(path) = path else {
        return CacheStatus::Disabled;
    };
    let stored = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
        .and_then(|()| save(path).map_err(|e| e.to_string()));
    match stored {
        Ok(()) => CacheStatus::Stored,
        Err(why) => {
            tracing::warn!(%why, "the template cache is unusable; the template was built without it");
            CacheStatus::Unusable(why)
        }
    }
}

/// Polybox's cache directory for templates (`templates` under
/// `$POLYBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/polybox`, else
/// `~/.cache/polybox`); `None` when `POLYBOX_CACHE_DIR=off`.
pub fn default_cache_dir() -> Option<PathBuf> {
    cache_dir().map(|dir| dir.join("templates"))
}
