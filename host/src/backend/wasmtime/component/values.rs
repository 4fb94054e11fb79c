//! JSON values to component values and back, guided by the component's own
//! WIT types.
//!
//! The mapping is the one JavaScript users of component tooling know:
//!
//! | WIT | JSON / JavaScript |
//! |---|---|
//! | `bool`, integers, `f32`, `f64` | boolean, number (integers must be whole and in range) |
//! | `char`, `string` | a string (one code point for `char`) |
//! | `list<T>`, `tuple<..>` | an array |
//! | `record` | an object; field `average-word-length` is `averageWordLength` |
//! | `variant` | `{ tag: "case-name", val: payload }` (`val` only with a payload) |
//! | `enum` | the case name |
//! | `option<T>` | the value, or `null` |
//! | `result<T, E>` | `{ tag: "ok" | "err", val }`; as a function's whole result, the value is returned and an error thrown |
//! | `flags` | an object of booleans, one per flag |
//!
//! Resources, futures and streams have no JSON form: functions that use
//! them are rejected when the component is loaded.

use serde_json::{Map, Value, json};
use wasmtime::component::{Type, Val};

/// A JavaScript name for a WIT name: `average-word-length` → `averageWordLength`.
pub(super) fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether values of `ty` can cross as JSON.
pub(super) fn supported(ty: &Type) -> bool {
    match ty {
        Type::List(list) => supported(&list.ty()),
        Type::Record(record) => record.fields().all(|f| supported(&f.ty)),
        Type::Tuple(tuple) => tuple.types().all(|t| supported(&t)),
        Type::Variant(variant) => variant.cases().all(|c| c.ty.as_ref().is_none_or(supported)),
        Type::Option(option) => supported(&option.ty()),
        Type::Result(result) => {
            result.ok().as_ref().is_none_or(supported)
                && result.err().as_ref().is_none_or(supported)
        }
        Type::Own(_)
        | Type::Borrow(_)
        | Type::Future(_)
        | Type::Stream(_)
        | Type::ErrorContext
        | Type::Map(_)
        | Type::FixedLengthList(_) => false,
        _ => true,
    }
}

/// Converts `json` to a value of type `ty`; errors say where (`path`) and
/// what was expected.
pub(super) fn to_val(json: &Value, ty: &Type, path: &str) -> Result<Val, String> {
    let mismatch = |expected: &str| {
        Err(format!(
            "{path}: expected {expected}, got {}",
            describe(json)
        ))
    };
    Ok(match ty {
        Type::Bool => match json {
            Value::Bool(b) => Val::Bool(*b),
            _ => return mismatch("a boolean"),
        },
        Type::S8 => Val::S8(integer(json, path)?),
        Type::U8 => Val::U8(integer(json, path)?),
        Type::S16 => Val::S16(integer(json, path)?),
        Type::U16 => Val::U16(integer(json, path)?),
        Type::S32 => Val::S32(integer(json, path)?),
        Type::U32 => Val::U32(integer(json, path)?),
        Type::S64 => Val::S64(integer(json, path)?),
        Type::U64 => Val::U64(integer(json, path)?),
        Type::Float32 => match json.as_f64() {
            Some(n) => Val::Float32(n as f32),
            None => return mismatch("a number"),
        },
        Type::Float64 => match json.as_f64() {
            Some(n) => Val::Float64(n),
            None => return mismatch("a number"),
        },
        Type::Char => {
            let mut chars = json.as_str().map(str::chars).into_iter().flatten();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return mismatch("a string of one character"),
            }
        }
        Type::String => match json {
            Value::String(s) => Val::String(s.clone()),
            _ => return mismatch("a string"),
        },
        Type::List(list) => match json {
            Value::Array(items) => {
                let item = list.ty();
                let vals = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| to_val(v, &item, &format!("{path}[{i}]")));
                Val::List(vals.collect::<Result<_, _>>()?)
            }
            _ => return mismatch("an array"),
        },
        Type::Tuple(tuple) => match json {
            Value::Array(items) if items.len() == tuple.types().len() => Val::Tuple(
                items
                    .iter()
                    .zip(tuple.types())
                    .enumerate()
                    .map(|(i, (v, t))| to_val(v, &t, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return mismatch(&format!("an array of {} items", tuple.types().len())),
        },
        Type::Record(record) => match json {
            Value::Object(object) => Val::Record(
                record
                    .fields()
                    .map(|field| {
                        let key = camel_case(field.name);
                        let value = object.get(&key).unwrap_or(&Value::Null);
                        to_val(value, &field.ty, &format!("{path}.{key}"))
                            .map(|v| (field.name.to_owned(), v))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return mismatch("an object"),
        },
        Type::Variant(variant) => {
            let Some((tag, payload)) = tagged(json) else {
                return mismatch("an object { tag, val }");
            };
            let Some(case) = variant.cases().find(|c| c.name == tag) else {
                let names: Vec<_> = variant.cases().map(|c| c.name).collect();
                return Err(format!(
                    "{path}: unknown variant case {tag:?}; expected one of {names:?}"
                ));
            };
            let payload = match case.ty {
                Some(ty) => Some(Box::new(to_val(payload, &ty, &format!("{path}.val"))?)),
                None => None,
            };
            Val::Variant(tag.to_owned(), payload)
        }
        Type::Enum(cases) => match json.as_str() {
            Some(name) if cases.names().any(|n| n == name) => Val::Enum(name.to_owned()),
            _ => return mismatch(&format!("one of {:?}", cases.names().collect::<Vec<_>>())),
        },
        Type::Option(option) => match json {
            Value::Null => Val::Option(None),
            value => Val::Option(Some(Box::new(to_val(value, &option.ty(), path)?))),
        },
        Type::Result(result) => {
            let Some((tag, payload)) = tagged(json) else {
                return mismatch("an object { tag: \"ok\" | \"err\", val }");
            };
            let side = |ty: Option<Type>| match ty {
                Some(ty) => to_val(payload, &ty, &format!("{path}.val")).map(|v| Some(Box::new(v))),
                None => Ok(None),
            };
            match tag {
                "ok" => Val::Result(Ok(side(result.ok())?)),
                "err" => Val::Result(Err(side(result.err())?)),
                _ => return mismatch("tag \"ok\" or \"err\""),
            }
        }
        Type::Flags(flags) => match json {
            Value::Object(object) => Val::Flags(
                flags
                    .names()
                    .filter(|name| {
                        object
                            .get(&camel_case(name))
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    })
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => return mismatch("an object of booleans"),
        },
        other => return Err(format!("{path}: the type {other:?} has no JSON form")),
    })
}

/// Converts a value of type `ty` to JSON.
pub(super) fn from_val(val: &Val, ty: &Type) -> Value {
    match (val, ty) {
        (Val::Bool(b), _) => json!(b),
        (Val::S8(n), _) => json!(n),
        (Val::U8(n), _) => json!(n),
        (Val::S16(n), _) => json!(n),
        (Val::U16(n), _) => json!(n),
        (Val::S32(n), _) => json!(n),
        (Val::U32(n), _) => json!(n),
        (Val::S64(n), _) => json!(n),
        (Val::U64(n), _) => json!(n),
        // Not-a-number and infinities have no JSON form: null, as in JSON.stringify.
        (Val::Float32(n), _) => json!(n),
        (Val::Float64(n), _) => json!(n),
        (Val::Char(c), _) => json!(c.to_string()),
        (Val::String(s), _) => json!(s),
        (Val::List(items), Type::List(list)) => {
            let item = list.ty();
            Value::Array(items.iter().map(|v| from_val(v, &item)).collect())
        }
        (Val::Tuple(items), Type::Tuple(tuple)) => Value::Array(
            items
                .iter()
                .zip(tuple.types())
                .map(|(v, t)| from_val(v, &t))
                .collect(),
        ),
        (Val::Record(fields), Type::Record(record)) => Value::Object(
            fields
                .iter()
                .zip(record.fields())
                .map(|((name, v), field)| (camel_case(name), from_val(v, &field.ty)))
                .collect::<Map<_, _>>(),
        ),
        (Val::Variant(tag, payload), Type::Variant(variant)) => {
            let ty = variant.cases().find(|c| c.name == tag).and_then(|c| c.ty);
            tagged_json(tag, payload.as_deref().zip(ty.as_ref()))
        }
        (Val::Enum(name), _) => json!(name),
        (Val::Option(None), _) => Value::Null,
        (Val::Option(Some(v)), Type::Option(option)) => from_val(v, &option.ty()),
        (Val::Result(Ok(v)), Type::Result(result)) => {
            tagged_json("ok", v.as_deref().zip(result.ok().as_ref()))
        }
        (Val::Result(Err(v)), Type::Result(result)) => {
            tagged_json("err", v.as_deref().zip(result.err().as_ref()))
        }
        (Val::Flags(set), Type::Flags(flags)) => Value::Object(
            flags
                .names()
                .map(|name| (camel_case(name), json!(set.iter().any(|s| s == name))))
                .collect::<Map<_, _>>(),
        ),
        _ => Value::Null,
    }
}

fn tagged_json(tag: &str, payload: Option<(&Val, &Type)>) -> Value {
    match payload {
        Some((val, ty)) => json!({ "tag": tag, "val": from_val(val, ty) }),
        None => json!({ "tag": tag }),
    }
}

/// `{ tag, val }`: the tag and the payload (null when absent).
fn tagged(json: &Value) -> Option<(&str, &Value)> {
    let object = json.as_object()?;
    Some((
        object.get("tag")?.as_str()?,
        object.get("val").unwrap_or(&Value::Null),
    ))
}

fn integer<T: TryFrom<i64> + TryFrom<u64>>(json: &Value, path: &str) -> Result<T, String> {
    let expected = || {
        format!(
            "{path}: expected an integer in range for {}, got {}",
            std::any::type_name::<T>(),
            describe(json)
        )
    };
    let value = if let Some(n) = json.as_i64() {
        T::try_from(n).ok()
    } else if let Some(n) = json.as_u64() {
        T::try_from(n).ok()
    } else {
        json.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15)
            .and_then(|f| T::try_from(f as i64).ok())
    };
    value.ok_or_else(expected)
}

/// A short description of a JSON value for error messages.
fn describe(json: &Value) -> String {
    match json {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.len() <= 40 => format!("string {s:?}"),
        Value::String(_) => "a string".into(),
        Value::Array(items) => format!("an array of {}", items.len()),
        Value::Object(_) => "an object".into(),
    }
}
