//! [`SessionTemplate`]: what every session starts from, built once. The
//! runtime is started, the `hostcall` global defined and the prelude
//! evaluated, then the guest's memory is captured; a session created from
//! the template maps that capture copy-on-write, so nothing is evaluated
//! again. Built templates can be kept in a cache directory (the file format
//! of [`Template`](crate::Template)), keyed by their inputs.

use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Session;
use crate::backend::GuestImage;
use crate::error::{Error, Result};
use crate::program::{Runtime, RuntimeBuilder};
use crate::template::file::{self, FORMAT, Needs};
use crate::template::{CacheStatus, store};

/// Defines the `hostcall` global, before any prelude.
const BEGIN: &str = "__polybox_session.begin()";

/// Builds a [`SessionTemplate`].
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use polybox::{Argument, CallLimits, RuntimeBuilder, SessionTemplate};
///
/// let template = SessionTemplate::builder(RuntimeBuilder::new())
///     .prelude("const greeting = 'hello';")
///     .build()?;
/// let mut session = template.create(RuntimeBuilder::new())?;
/// session.load_script("function greet(name) { return `${greeting} ${name}`; }")?;
/// let args = [Argument::Json(r#""world""#.into())];
/// assert_eq!(session.call("greet", &args, &[], &CallLimits::default())?, r#""hello world""#);
/// # Ok(()) }
/// ```
pub struct SessionTemplateBuilder {
    runtime: RuntimeBuilder,
    prelude: Option<String>,
    cache: Option<PathBuf>,
}

impl SessionTemplateBuilder {
    /// Code every session has evaluated before its scripts (a global
    /// script; top-level `await` allowed).
    pub fn prelude(mut self, code: impl Into<String>) -> Self {
        self.prelude = Some(code.into());
        self
    }

    /// Keeps built templates in `dir`, keyed by the digest of their inputs
    /// (the JS guest, the settings, the prelude), as
    /// [`TemplateBuilder::cache_dir`](crate::TemplateBuilder::cache_dir)
    /// does.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// Starts the runtime, evaluates the prelude and captures the result,
    /// or reads the capture from the cache. `ERR_GUEST_ERROR` with its
    /// report when the prelude fails; `ERR_INVALID_ARG` on the Hyperlight
    /// backend.
    pub fn build(self) -> Result<SessionTemplate> {
        let proto = self.runtime.proto()?;
        crate::backend::templates_supported(proto.config().backend)?;
        let needs = Needs::of(&proto);
        let cached = self
            .cache
            .as_ref()
            .map(|dir| dir.join(self.file_name(&needs)));
        if let Some(path) = cached.as_ref().filter(|path| path.exists()) {
            match file::read_for(path, &needs) {
                Ok(loaded) => {
                    return Ok(SessionTemplate {
                        inner: Arc::new(Inner {
                            needs,
                            start: loaded.image,
                        }),
                        cache: CacheStatus::Hit,
                    });
                }
                // Rebuilt and written again below.
                Err(error) => {
                    tracing::warn!(%error, "ignoring an unusable cached session template")
                }
            }
        }
        let start = self.capture()?;
        let cache = store(cached.as_deref(), |path| {
            file::write(path, &needs, Vec::new(), &start)
        });
        Ok(SessionTemplate {
            inner: Arc::new(Inner { needs, start }),
            cache,
        })
    }

    fn capture(&self) -> Result<GuestImage> {
        let mut runtime = self.runtime.clone().build()?;
        for code in [Some(BEGIN), self.prelude.as_deref()].into_iter().flatten() {
            let run = runtime.run(code, super::script_options(&Default::default()))?;
            if run.output.exit_code != 0 {
                return Err(super::script_failed(&run));
            }
        }
        runtime.core().guest.snapshot()
    }

    fn file_name(&self, needs: &Needs) -> String {
        let inputs = serde_json::json!({
            "format": FORMAT,
            "kind": "session",
            "needs": needs,
            "prelude": self.prelude,
        });
        let digest = Sha256::digest(inputs.to_string());
        format!("session-{}.pbx", &hex::encode(digest)[..32])
    }
}

/// What every session starts from (see [`session`](crate::session)). Cheap to
/// clone.
#[derive(Clone)]
pub struct SessionTemplate {
    inner: Arc<Inner>,
    cache: CacheStatus,
}

struct Inner {
    /// What the capture needs of a session's sandbox.
    needs: Needs,
    start: GuestImage,
}

impl SessionTemplate {
    /// A builder of a template for sessions of `runtime`'s settings.
    pub fn builder(runtime: RuntimeBuilder) -> SessionTemplateBuilder {
        SessionTemplateBuilder {
            runtime,
            prelude: None,
            cache: None,
        }
    }

    /// A new session started from the template, with `runtime`'s
    /// capabilities (files, mounts, network, environment, hostcalls), heap
    /// size and limits. `ERR_INVALID_ARG` naming what differs when its
    /// other settings (stack size, fuel metering, host modules) are not the
    /// template's, or its heap cannot hold the captured memory.
    pub fn create(&self, runtime: RuntimeBuilder) -> Result<Session> {
        let proto = runtime.proto()?;
        let differences = self.inner.needs.differences(&Needs::of(&proto));
        if !differences.is_empty() {
            return Err(Error::invalid_arg(format!(
                "the session template was built for other sandboxes: {}",
                differences.join("; ")
            )));
        }
        let core = proto.assemble(Some(&self.inner.start))?;
        Ok(Session::new(Runtime::from_core(
            core,
            self.inner.start.clone(),
            runtime,
        )))
    }

    /// Whether [`SessionTemplateBuilder::build`] read the template from its
    /// cache or stored it there.
    pub fn cache_status(&self) -> &CacheStatus {
        &self.cache
    }
}

impl std::fmt::Debug for SessionTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTemplate")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}
