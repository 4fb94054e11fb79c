//! [`NamePattern`]: the environment variables or tools an `env` or `tool`
//! rule covers.
//!
//! A name is matched whole, with `*` standing for any run of characters
//! (`API_*`, `search`, `*`): names have no parts to confuse, unlike URLs
//! and paths.

use std::fmt;

use super::glob::wildcard;

/// A variable or tool name, `*` matching any run of characters.
///
/// ```
/// use polybox::permissions::NamePattern;
///
/// let keys = NamePattern::parse("API_*").unwrap();
/// assert!(keys.covers("API_KEY"));
/// assert!(!keys.covers("MY_API_KEY"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamePattern(String);

impl NamePattern {
    /// Parses a name pattern: not empty (it would match nothing), no NUL
    /// or `=`, which no variable or tool name has.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("an empty name matches nothing: write a name, or `*` for all".into());
        }
        if text.contains(['\0', '=']) {
            return Err(format!("{text:?} has a character no name has (NUL or `=`)"));
        }
        Ok(Self(text.to_owned()))
    }

    /// Whether this matches all of `name`.
    pub fn covers(&self, name: &str) -> bool {
        wildcard(&self.0, name)
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
