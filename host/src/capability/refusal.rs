//! [`Refusal`]: an expected failure of an internal capability module
//! (`polybox:fs`, `polybox:net`), as Node.js names it (`ENOENT`, `EACCES`,
//! `ECONNREFUSED`, ...), and [`answer`], the JSON every such module answers
//! with: `{"ok": value}` or `{"err": {"code", "detail"}}`. The guest's `fs`
//! and `fetch` build Node's errors from it.

use std::io;

use serde_json::{Value, json};

/// A failed operation: a POSIX-style error code and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// `ENOENT`, `EACCES`, `EEXIST`, ...
    pub code: &'static str,
    /// A longer explanation, when there is more to say than the code.
    pub detail: Option<String>,
}

impl Refusal {
    /// The error `code`, without more to say.
    pub fn new(code: &'static str) -> Self {
        Self { code, detail: None }
    }

    /// The error `code`, explained.
    pub fn with(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
        }
    }
}

impl From<io::Error> for Refusal {
    fn from(error: io::Error) -> Self {
        use io::ErrorKind as K;
        let code = match error.kind() {
            K::NotFound => "ENOENT",
            K::PermissionDenied => "EACCES",
            K::AlreadyExists => "EEXIST",
            K::NotADirectory => "ENOTDIR",
            K::IsADirectory => "EISDIR",
            K::DirectoryNotEmpty => "ENOTEMPTY",
            K::ReadOnlyFilesystem => "EROFS",
            K::CrossesDevices => "EXDEV",
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => "ENOSPC",
            K::InvalidInput | K::InvalidFilename => "EINVAL",
            _ => match error.raw_os_error() {
                Some(libc::ELOOP) => "ELOOP",
                Some(libc::ENAMETOOLONG) => "ENAMETOOLONG",
                Some(libc::EPERM) => "EPERM",
                _ => "EIO",
            },
        };
        Self::with(code, error.to_string())
    }
}

/// The JSON answer of an internal capability module for `result`.
pub(crate) fn answer(result: Result<Value, Refusal>) -> String {
    match result {
        Ok(value) => json!({ "ok": value }),
        Err(refusal) => json!({ "err": { "code": refusal.code, "detail": refusal.detail } }),
    }
    .to_string()
}
