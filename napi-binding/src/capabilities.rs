//! What `NodeRuntime.create`'s capability options become natively
//! (`capabilities.js` checks and normalises them): seeded files, mounts and
//! the permissions policy, set on the sandbox builder.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use polybox::permissions::Permissions;
use polybox::{Mount, SandboxBuilder};

use crate::error::{Result, to_js};

/// A file seeded into the runtime's filesystem.
#[napi(object)]
pub struct FileSpec {
    pub path: String,
    pub bytes: Buffer,
}

/// A host directory mounted at a guest path.
#[napi(object)]
pub struct MountSpec {
    pub guest_path: String,
    pub host_path: String,
    pub read_only: bool,
}

/// The capabilities of a runtime.
#[napi(object, use_nullable = true)]
pub struct CapabilitiesSpec {
    pub files: Vec<FileSpec>,
    pub mounts: Vec<MountSpec>,
    /// The policy, as JSON.
    pub permissions: Option<String>,
}

/// `sandbox` with `spec`'s files, mounts and policy.
pub fn apply(mut sandbox: SandboxBuilder, spec: CapabilitiesSpec) -> Result<SandboxBuilder> {
    for file in spec.files {
        sandbox = sandbox.file(file.path, file.bytes.to_vec());
    }
    for mount in spec.mounts {
        sandbox = sandbox.mount(if mount.read_only {
            Mount::read_only(mount.guest_path, mount.host_path)
        } else {
            Mount::read_write(mount.guest_path, mount.host_path)
        });
    }
    if let Some(json) = spec.permissions {
        sandbox = sandbox.permissions(Permissions::from_json(&json).map_err(to_js)?);
    }
    Ok(sandbox)
}
