//! [`FsError`]: a failed operation as Node.js names it (`ENOENT`, `EACCES`,
//! ...); the guest's `fs` module builds Node's error from it.

use std::io;

/// A failed filesystem operation: a POSIX error code and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsError {
    /// `ENOENT`, `EACCES`, `EEXIST`, ...
    pub code: &'static str,
    /// A longer explanation, when there is more to say than the code.
    pub detail: Option<String>,
}

impl FsError {
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

impl From<io::Error> for FsError {
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
