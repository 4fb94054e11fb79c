//! Validation of the names users give handlers, modules and host functions.
//!
//! Names travel into guest code (module specifiers, stack traces, log lines),
//! so they are kept short and printable.

use crate::error::{Error, Result};

/// The longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Checks that `value` is a usable name: not empty, at most
/// [`MAX_NAME_LEN`] bytes, and free of control characters.
pub fn validate_name(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_arg(format!("the {what} must not be empty")));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(Error::invalid_arg(format!(
            "the {what} is {} bytes long; the limit is {MAX_NAME_LEN}",
            value.len()
        )));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_arg(format!(
            "the {what} {value:?} contains the control character {c:?}"
        )));
    }
    Ok(())
}

/// Checks a module namespace: a valid name made of ASCII letters, digits,
/// `-`, `_` and `.`, other than the reserved `host` and `node` (Node.js's
/// core modules, `node:x`).
pub fn validate_namespace(namespace: &str) -> Result<()> {
    validate_name("module namespace", namespace)?;
    if let Some(c) = namespace
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(Error::invalid_arg(format!(
            "the module namespace {namespace:?} contains {c:?}; use letters, digits, '-', '_' or '.'"
        )));
    }
    if namespace == "host" {
        return Err(Error::invalid_arg(
            "the `host` namespace is reserved for host modules; register host functions with ProtoJSSandbox::host_module",
        ));
    }
    if namespace == "node" {
        return Err(Error::invalid_arg(
            "the `node` namespace is reserved for Node.js's core modules",
        ));
    }
    Ok(())
}

/// Checks a host module name: a valid name without `:`, since guests import
/// it as `host:<name>`.
pub fn validate_module_name(module: &str) -> Result<()> {
    validate_name("host module name", module)?;
    if module.contains(':') {
        return Err(Error::invalid_arg(format!(
            "the host module name {module:?} contains ':'; guests import it as `host:<name>`"
        )));
    }
    Ok(())
}

/// Whether `name` is a JavaScript identifier of ASCII letters, digits, `_`
/// and `$` (what a tool or a session's function may be called).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}
