//! Arguments from JavaScript, checked here once: a value of the wrong type
//! or out of range is `ERR_INVALID_ARG`, saying what was expected and what
//! arrived.

use std::time::Duration;

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, Unknown};
use napi::{Either, ValueType};
use polybox::CallLimits;

use crate::error::{Result, invalid_arg};

/// A number from JavaScript, or whatever arrived instead.
pub type Number<'a> = Either<f64, Unknown<'a>>;

/// A string from JavaScript, or whatever arrived instead.
pub type Text<'a> = Either<String, Unknown<'a>>;

/// The longest timeout accepted, as by `@hyperlight/js-host-api`: one hour.
pub const MAX_TIMEOUT_MS: f64 = 3_600_000.0;

/// How a value that is not what was expected is named in messages.
pub fn describe(value: &Unknown<'_>) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) => "an object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "a value of another type",
    }
}

/// A string.
pub fn string(what: &str, value: Text<'_>) -> Result<String> {
    match value {
        Either::A(text) => Ok(text),
        Either::B(other) => Err(invalid_arg(format!(
            "the {what} must be a string, not {}",
            describe(&other)
        ))),
    }
}

/// An optional string: `undefined` and `null` are absent.
pub fn optional_string(what: &str, value: Option<Text<'_>>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(Either::B(other)) if is_absent(&other) => Ok(None),
        Some(value) => string(what, value).map(Some),
    }
}

/// A module's name, source and namespace (`None`: the default one), as
/// `addModule` takes them.
pub fn module_parts(
    name: Text<'_>,
    source: Text<'_>,
    namespace: Option<Text<'_>>,
) -> Result<(String, String, Option<String>)> {
    Ok((
        string("module name", name)?,
        string("module source", source)?,
        optional_string("module namespace", namespace)?,
    ))
}

/// A positive safe integer.
pub fn positive_integer(what: &str, value: Number<'_>) -> Result<u64> {
    match value {
        Either::A(n)
            if n.is_finite() && n.fract() == 0.0 && n > 0.0 && n <= 9_007_199_254_740_991.0 =>
        {
            Ok(n as u64)
        }
        Either::A(n) => Err(invalid_arg(format!(
            "the {what} must be a positive integer, not {n}"
        ))),
        Either::B(other) => Err(invalid_arg(format!(
            "the {what} must be a positive integer, not {}",
            describe(&other)
        ))),
    }
}

/// A size in bytes: a positive safe integer.
pub fn bytes(what: &str, value: Number<'_>) -> Result<usize> {
    let n = positive_integer(what, value)?;
    usize::try_from(n).map_err(|_| invalid_arg(format!("the {what} is too large")))
}

/// The optional option `name`: `undefined` and `null` are absent. Only
/// the keys the object has are read (a call's options are read on every
/// call, and each read is a trip into V8).
pub fn property<'a>(options: &OptionsObject<'a>, name: &str) -> Result<Option<Unknown<'a>>> {
    if !options.keys.iter().any(|key| key == name) {
        return Ok(None);
    }
    let value: Unknown<'a> = options
        .object
        .get_named_property(name)
        .map_err(|e| invalid_arg(format!("cannot read option {name}: {e}")))?;
    Ok((!is_absent(&value)).then_some(value))
}

/// An options object, or whatever arrived instead.
pub type Options<'a> = Either<Object<'a>, Unknown<'a>>;

/// An options object whose own enumerable keys were checked, and those keys.
pub struct OptionsObject<'a> {
    object: Object<'a>,
    keys: Vec<String>,
}

/// An options object whose properties are all among `valid` (`undefined`
/// and `null` are no options at all).
pub fn options<'a>(
    value: Option<Options<'a>>,
    valid: &[&str],
) -> Result<Option<OptionsObject<'a>>> {
    let options = match value {
        Some(Either::A(options)) => options,
        Some(Either::B(other)) if !is_absent(&other) => {
            return Err(invalid_arg(format!(
                "the options must be an object, not {}",
                describe(&other)
            )));
        }
        _ => return Ok(None),
    };
    let keys = Object::keys(&options).map_err(|e| invalid_arg(e.reason))?;
    if let Some(unknown) = keys.iter().find(|key| !valid.contains(&key.as_str())) {
        return Err(invalid_arg(format!(
            "unknown option {unknown:?}; the options are {}",
            valid.join(", ")
        )));
    }
    Ok(Some(OptionsObject {
        object: options,
        keys,
    }))
}

/// The limits among `options`: `wallClockTimeoutMs`, `cpuTimeoutMs` and
/// `fuel`.
pub fn limits(options: &OptionsObject<'_>) -> Result<CallLimits> {
    let mut limits = CallLimits::default();
    if let Some(ms) = property(options, "wallClockTimeoutMs")? {
        limits.wall_clock = Some(timeout_ms("wallClockTimeoutMs", ms)?);
    }
    if let Some(ms) = property(options, "cpuTimeoutMs")? {
        limits.cpu_time = Some(timeout_ms("cpuTimeoutMs", ms)?);
    }
    if let Some(fuel) = property(options, "fuel")? {
        limits.fuel = Some(integer_property("fuel", fuel)?);
    }
    Ok(limits)
}

/// A timeout in milliseconds, from 1 ms to one hour (fractions round up).
pub fn timeout_ms(what: &str, value: Unknown<'_>) -> Result<Duration> {
    let expected = format!("{what} must be a number of milliseconds from 1 to {MAX_TIMEOUT_MS}");
    match number(&value) {
        Some(ms) if ms.is_finite() && (1.0..=MAX_TIMEOUT_MS).contains(&ms.ceil()) => {
            Ok(Duration::from_millis(ms.ceil() as u64))
        }
        Some(ms) => Err(invalid_arg(format!("{expected}, not {ms}"))),
        None => Err(invalid_arg(format!("{expected}, not {}", describe(&value)))),
    }
}

/// A string, from a property.
pub fn string_property(what: &str, value: Unknown<'_>) -> Result<String> {
    of_type(what, value, ValueType::String, "a string")
}

/// A positive safe integer, from a property.
pub fn integer_property(what: &str, value: Unknown<'_>) -> Result<u64> {
    match number(&value) {
        Some(n) => positive_integer(what, Either::A(n)),
        None => positive_integer(what, Either::B(value)),
    }
}

/// A boolean, from a property.
pub fn boolean(what: &str, value: Unknown<'_>) -> Result<bool> {
    of_type(what, value, ValueType::Boolean, "a boolean")
}

/// The value as a `T` if its JavaScript type is `ty` (named `noun`).
fn of_type<T: FromNapiValue>(
    what: &str,
    value: Unknown<'_>,
    ty: ValueType,
    noun: &str,
) -> Result<T> {
    if value.get_type().is_ok_and(|actual| actual == ty) {
        // SAFETY: the value was just found to be of the type `T` reads.
        if let Ok(typed) = unsafe { value.cast() } {
            return Ok(typed);
        }
    }
    Err(invalid_arg(format!(
        "{what} must be {noun}, not {}",
        describe(&value)
    )))
}

/// The value as a number, if it is one.
fn number(value: &Unknown<'_>) -> Option<f64> {
    if !matches!(value.get_type(), Ok(ValueType::Number)) {
        return None;
    }
    // SAFETY: the value was just found to be a number.
    unsafe { value.cast() }.ok()
}

/// Whether the value is `undefined` or `null`.
pub fn is_absent(value: &Unknown<'_>) -> bool {
    matches!(value.get_type(), Ok(ValueType::Undefined | ValueType::Null))
}
