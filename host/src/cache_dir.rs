//! Where Polybox keeps what it can rebuild but would rather not: compiled
//! guests and sandbox templates. One place decides it, so that one setting
//! moves or disables all of it.

use std::path::PathBuf;

/// `$POLYBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/polybox`, else
/// `~/.cache/polybox`; `None` when `POLYBOX_CACHE_DIR=off` or no home is
/// known. What is loaded from it is trusted, so it must be writable only by
/// its owner.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("POLYBOX_CACHE_DIR") {
        Some(dir) if dir == "off" => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache"))
                })?
                .join("polybox"),
        ),
    }
}
