//! [`Template`]: a sandbox captured once, ready, and started many times.
//!
//! # Why templates
//!
//! Most of a sandbox's first call is work every sandbox of an application
//! repeats: starting QuickJS, declaring the host modules, compiling and
//! evaluating the modules and handlers. A template does that once and
//! captures the guest's memory; [`Template::create`] then maps the capture
//! copy-on-write into a new instance, so a sandbox is ready in microseconds
//! with nothing compiled or evaluated, and the pages no call writes stay
//! shared by every sandbox of the template.
//!
//! A template is also the unit that outlives a process: [`Template::save`]
//! writes it to a file (`file.rs` has the format) that [`Template::load`]
//! reads in another process, checking that the file is whole and that the
//! loading sandbox is what the capture needs (the same JS guest, settings
//! and host modules), and saying what differs if not. Host functions are
//! never in the file: they are host state, so the loading side registers
//! them again on the [`ProtoJSSandbox`] it gives, and every sandbox created
//! calls those. The same check makes a template's snapshot restore into any
//! sandbox of the template.
//!
//! Templates capture the JS guest's memory, which the wasmtime backend owns
//! and can map; a Hyperlight snapshot belongs to the micro-VM that took it,
//! so a Hyperlight sandbox cannot be a template (`ERR_INVALID_ARG`).

mod builder;
pub(crate) mod file;

use std::path::Path;
use std::sync::Arc;

pub(crate) use builder::store;
pub use builder::{CacheStatus, TemplateBuilder, default_cache_dir};

use crate::error::{Error, Result};
use crate::sandbox::{LoadedJSSandbox, ProtoJSSandbox};
use crate::snapshot::Snapshot;
use file::Needs;

/// A loaded sandbox captured once, from which ready sandboxes are created
/// (see the [module docs](self)). Cheap to clone.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use polybox::{SandboxBuilder, Template};
///
/// let mut proto = SandboxBuilder::new().build()?;
/// proto.register("math", "add", |a: f64, b: f64| a + b)?;
/// let template = Template::builder(proto)
///     .handler("sum", "import { add } from 'host:math';\nfunction handler(e) { return add(e.a, e.b); }")
///     .build()?;
/// let mut sandbox = template.create()?;
/// assert_eq!(sandbox.handle_event("sum", r#"{"a":2,"b":3}"#, None)?, "5");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Template {
    /// The recipe of the template's sandboxes: settings, host functions and
    /// host components.
    proto: Arc<ProtoJSSandbox>,
    snapshot: Snapshot,
    cache: CacheStatus,
}

impl Template {
    /// A builder of a template of `proto`'s sandboxes: add handlers and
    /// modules, then [`build`](TemplateBuilder::build).
    pub fn builder(proto: ProtoJSSandbox) -> TemplateBuilder {
        TemplateBuilder::new(proto)
    }

    /// A template of `sandbox` as it is now, its handlers loaded: `proto`
    /// must be the recipe it was built from (the template's sandboxes get
    /// its host functions). `ERR_INVALID_ARG` when they differ (settings,
    /// host modules), or on the Hyperlight backend; `ERR_POISONED` for a
    /// poisoned sandbox.
    pub fn capture(proto: ProtoJSSandbox, sandbox: &mut LoadedJSSandbox) -> Result<Self> {
        crate::backend::templates_supported(proto.config().backend)?;
        let snapshot = sandbox.snapshot()?;
        let template = Self {
            proto: Arc::new(proto),
            snapshot,
            cache: CacheStatus::Disabled,
        };
        template.check_fits()?;
        Ok(template)
    }

    /// A new sandbox started from the template: its handlers loaded, its
    /// modules evaluated, with a capability set of its own (its files, its
    /// network) and the template's host functions. Nothing is compiled or
    /// evaluated; the captured memory is mapped copy-on-write.
    pub fn create(&self) -> Result<LoadedJSSandbox> {
        let core = self.proto.assemble(Some(&self.snapshot.image))?;
        Ok(LoadedJSSandbox::new(core, self.snapshot.handlers.clone()))
    }

    /// The template's state as a snapshot: it restores into any sandbox of
    /// the template (for example to reset one after a call).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Whether [`TemplateBuilder::build`] read the template from its cache
    /// or stored it there.
    pub fn cache_status(&self) -> &CacheStatus {
        &self.cache
    }

    /// The handlers every sandbox of the template has loaded.
    pub fn handlers(&self) -> impl Iterator<Item = &str> {
        self.snapshot.handlers()
    }

    /// Writes the template to `path`, replacing the file atomically. The
    /// file holds the guest's memory and what it needs of a sandbox, not
    /// the host functions. `ERR_INVALID_ARG` naming the I/O error.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        file::write(
            path.as_ref(),
            &Needs::of(&self.proto),
            self.handlers().map(str::to_owned).collect(),
            &self.snapshot.image,
        )
    }

    /// Reads a template [`save`](Self::save)d by any process, for sandboxes
    /// of `proto` (its settings, host functions and host components).
    ///
    /// Fails with `ERR_INVALID_ARG` saying why for a file that is not a
    /// template, of another format version, truncated or corrupted (its
    /// SHA-256 does not match), built by a Polybox with another JS guest, or
    /// for sandboxes `proto` does not build (other sizes, fuel metering,
    /// host modules or functions, host components).
    ///
    /// Cost: reading the file and checking its digest, a millisecond or two
    /// for a small template; the guest memory is copied into a sealed
    /// memory file, which every sandbox created maps.
    pub fn load(path: impl AsRef<Path>, proto: ProtoJSSandbox) -> Result<Self> {
        crate::backend::templates_supported(proto.config().backend)?;
        let loaded = file::read_for(path.as_ref(), &Needs::of(&proto))?;
        let fingerprint = proto.fingerprint();
        Ok(Self {
            proto: Arc::new(proto),
            snapshot: Snapshot {
                fingerprint,
                handlers: loaded.handlers.into_iter().collect(),
                image: loaded.image,
            },
            cache: CacheStatus::Disabled,
        })
    }

    /// Checks that the snapshot was taken from a sandbox of the recipe.
    fn check_fits(&self) -> Result<()> {
        if self.snapshot.fingerprint != self.proto.fingerprint() {
            return Err(Error::invalid_arg(
                "the sandbox was not built from this ProtoJSSandbox: its settings or host modules differ",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("handlers", &self.snapshot.handlers)
            .finish_non_exhaustive()
    }
}
