//! Guest paths: absolute, normalised lexically, never above the root.

/// The longest path Linux takes, in bytes.
pub const PATH_MAX: usize = 4096;
/// The longest name of one entry, in bytes.
pub const NAME_MAX: usize = 255;

/// Whether a normalised path is too long, or has a name that is, for
/// Linux (`ENAMETOOLONG`).
pub fn too_long(path: &str) -> bool {
    path.len() > PATH_MAX || path.split('/').any(|name| name.len() > NAME_MAX)
}

/// `path` made absolute and normalised: `.` and empty segments dropped,
/// `..` removing the segment before it (and never climbing above `/`,
/// as at a real root). Lexical, so a `..` after a symbolic link does not
/// follow the link back out: the guest's tree has no links of its own, and
/// a mount's links are resolved on the host, inside the mount. `None` for a
/// relative path or one with a NUL byte.
pub fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            segment => out.push(segment),
        }
    }
    Some(format!("/{}", out.join("/")))
}

/// The parent of a normalised path (`/` is its own parent) and its last
/// segment (empty for `/`).
pub fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(at) => (&path[..at], &path[at + 1..]),
        None => ("/", path),
    }
}

/// Whether normalised `path` is `dir` or lies below it.
pub fn is_within(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_without_climbing_above_the_root() {
        assert_eq!(normalize("/a/./b//c/").as_deref(), Some("/a/b/c"));
        assert_eq!(normalize("/a/../../..").as_deref(), Some("/"));
        assert_eq!(normalize("/../etc/passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(normalize("a/b"), None);
        assert_eq!(normalize("/a\0b"), None);
    }

    #[test]
    fn splits_and_nests() {
        assert_eq!(split("/a/b"), ("/a", "b"));
        assert_eq!(split("/a"), ("/", "a"));
        assert_eq!(split("/"), ("/", ""));
        assert!(is_within("/a/b", "/a"));
        assert!(!is_within("/ab", "/a"));
        assert!(is_within("/x", "/"));
    }
}
