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
//! | `option<option<T>>` | `null` for the outer `none`; `{ tag: "none" }` or `{ tag: "some", val }` for the inner option, so every value round-trips |
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
        Type::Option(option) => match (json, option.ty()) {
            (Value::Null, _) => Val::Option(None),
            // An option inside an option cannot also be `null`: it is tagged.
            (value, Type::Option(inner)) => {
                let Some((tag, payload)) = tagged(value) else {
                    return mismatch("null, or an object { tag: \"none\" | \"some\", val }");
                };
                let inner = match tag {
                    "none" => Val::Option(None),
                    "some" => Val::Option(Some(Box::new(to_val(
                        payload,
                        &inner.ty(),
                        &format!("{path}.val"),
                    )?))),
                    _ => return mismatch("tag \"none\" or \"some\""),
                };
                Val::Option(Some(Box::new(inner)))
            }
            (value, inner) => Val::Option(Some(Box::new(to_val(value, &inner, path)?))),
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

/// Converts a value of type `ty` to JSON. A value that does not have that
/// type is an error naming both.
pub(super) fn from_val(val: &Val, ty: &Type) -> Result<Value, String> {
    Ok(match (val, ty) {
        (Val::Bool(b), Type::Bool) => json!(b),
        (Val::S8(n), Type::S8) => json!(n),
        (Val::U8(n), Type::U8) => json!(n),
        (Val::S16(n), Type::S16) => json!(n),
        (Val::U16(n), Type::U16) => json!(n),
        (Val::S32(n), Type::S32) => json!(n),
        (Val::U32(n), Type::U32) => json!(n),
        (Val::S64(n), Type::S64) => json!(n),
        (Val::U64(n), Type::U64) => json!(n),
        // Not-a-number and infinities have no JSON form: null, as in JSON.stringify.
        (Val::Float32(n), Type::Float32) => json!(n),
        (Val::Float64(n), Type::Float64) => json!(n),
        (Val::Char(c), Type::Char) => json!(c.to_string()),
        (Val::String(s), Type::String) => json!(s),
        (Val::List(items), Type::List(list)) => {
            let item = list.ty();
            Value::Array(
                items
                    .iter()
                    .map(|v| from_val(v, &item))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Val::Tuple(items), Type::Tuple(tuple)) if items.len() == tuple.types().len() => {
            Value::Array(
                items
                    .iter()
                    .zip(tuple.types())
                    .map(|(v, t)| from_val(v, &t))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Val::Record(fields), Type::Record(record)) if fields.len() == record.fields().len() => {
            Value::Object(
                fields
                    .iter()
                    .zip(record.fields())
                    .map(|((name, v), field)| Ok((camel_case(name), from_val(v, &field.ty)?)))
                    .collect::<Result<Map<_, _>, String>>()?,
            )
        }
        (Val::Variant(tag, payload), Type::Variant(variant)) => {
            let case = variant
                .cases()
                .find(|c| c.name == tag)
                .ok_or_else(|| format!("variant case {tag:?} is not one of the type's"))?;
            tagged_json(tag, payload.as_deref(), case.ty.as_ref())?
        }
        (Val::Enum(name), Type::Enum(cases)) if cases.names().any(|n| n == name) => json!(name),
        (Val::Option(None), Type::Option(_)) => Value::Null,
        (Val::Option(Some(v)), Type::Option(option)) => match (&**v, option.ty()) {
            (Val::Option(None), Type::Option(_)) => tagged_json("none", None, None)?,
            (Val::Option(Some(inner)), Type::Option(inner_ty)) => {
                tagged_json("some", Some(inner), Some(&inner_ty.ty()))?
            }
            (v, ty) => from_val(v, &ty)?,
        },
        (Val::Result(Ok(v)), Type::Result(result)) => {
            tagged_json("ok", v.as_deref(), result.ok().as_ref())?
        }
        (Val::Result(Err(v)), Type::Result(result)) => {
            tagged_json("err", v.as_deref(), result.err().as_ref())?
        }
        (Val::Flags(set), Type::Flags(flags)) => Value::Object(
            flags
                .names()
                .map(|name| (camel_case(name), json!(set.iter().any(|s| s == name))))
                .collect::<Map<_, _>>(),
        ),
        (val, ty) => return Err(format!("the value {val:?} does not have the type {ty:?}")),
    })
}

/// `{ tag, val }` (`val` only with a payload); a payload without a type, or
/// a type without a payload, is a mismatch.
fn tagged_json(tag: &str, payload: Option<&Val>, ty: Option<&Type>) -> Result<Value, String> {
    match (payload, ty) {
        (Some(val), Some(ty)) => Ok(json!({ "tag": tag, "val": from_val(val, ty)? })),
        (None, None) => Ok(json!({ "tag": tag })),
        (Some(val), None) => Err(format!("case {tag:?} has no payload, but got {val:?}")),
        (None, Some(ty)) => Err(format!("case {tag:?} needs a payload of type {ty:?}")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::Engine;
    use wasmtime::component::Component;
    use wasmtime::component::types::ComponentItem;

    /// The parameter types of a function a component imports, by name.
    fn types() -> Vec<(String, Type)> {
        let engine = Engine::default();
        let wat = r#"(component
            (type $r' (record (field "a-b" u32) (field "c" string)))
            (import "r" (type $r (eq $r')))
            (type $e' (enum "x" "y"))
            (import "e" (type $e (eq $e')))
            (type $v' (variant (case "n") (case "s" string)))
            (import "v" (type $v (eq $v')))
            (type $fl' (flags "read" "write"))
            (import "fl" (type $fl (eq $fl')))
            (import "f" (func
                (param "oo" (option (option u32))) (param "o" (option u32))
                (param "r" $r) (param "e" $e) (param "v" $v) (param "fl" $fl)
                (param "res" (result u32 (error string))) (param "l" (list s8))
                (param "t" (tuple bool char)) (param "n" f64) (param "u" u32)))
        )"#;
        let component = Component::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
        let ty = component.component_type();
        let (_, item) = ty.imports(&engine).find(|(name, _)| *name == "f").unwrap();
        let ComponentItem::ComponentFunc(func) = item.ty else {
            panic!("f is a function")
        };
        func.params().map(|(n, t)| (n.to_owned(), t)).collect()
    }

    fn ty(name: &str) -> Type {
        types().into_iter().find(|(n, _)| n == name).unwrap().1
    }

    fn round_trip(name: &str, json: Value) {
        let ty = ty(name);
        let val = to_val(&json, &ty, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_val(&val, &ty), Ok(json), "{name}");
    }

    #[test]
    fn every_supported_type_round_trips() {
        round_trip("o", json!(null));
        round_trip("o", json!(7));
        round_trip("r", json!({ "aB": 1, "c": "x" }));
        round_trip("e", json!("y"));
        round_trip("v", json!({ "tag": "n" }));
        round_trip("v", json!({ "tag": "s", "val": "hi" }));
        round_trip("fl", json!({ "read": true, "write": false }));
        round_trip("res", json!({ "tag": "ok", "val": 1 }));
        round_trip("res", json!({ "tag": "err", "val": "no" }));
        round_trip("l", json!([-1, 2]));
        round_trip("t", json!([true, "c"]));
        round_trip("n", json!(1.5));
    }

    #[test]
    fn an_option_of_an_option_round_trips_all_three_values() {
        round_trip("oo", json!(null));
        round_trip("oo", json!({ "tag": "none" }));
        round_trip("oo", json!({ "tag": "some", "val": 5 }));
        let ty = ty("oo");
        assert_eq!(
            to_val(&json!({ "tag": "none" }), &ty, "oo").unwrap(),
            Val::Option(Some(Box::new(Val::Option(None))))
        );
    }

    #[test]
    fn json_of_the_wrong_shape_is_rejected_with_where_and_what() {
        let cases = [
            ("u", json!("x"), "u: expected an integer"),
            ("u", json!(-1), "u: expected an integer"),
            ("l", json!([300]), "l[0]: expected an integer"),
            (
                "t",
                json!([true, "ab"]),
                "t[1]: expected a string of one character",
            ),
            ("e", json!("z"), "e: expected one of"),
            ("oo", json!(5), "oo: expected null, or an object"),
            ("v", json!({ "tag": "w" }), "unknown variant case \"w\""),
            ("r", json!([]), "r: expected an object"),
        ];
        for (name, json, expected) in cases {
            let error = to_val(&json, &ty(name), name).unwrap_err();
            assert!(error.contains(expected), "{name} {json}: {error}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_not_null() {
        assert!(from_val(&Val::String("x".into()), &ty("u")).is_err());
        assert!(from_val(&Val::U32(1), &ty("oo")).is_err());
        assert!(from_val(&Val::Enum("z".into()), &ty("e")).is_err());
        let short = Val::Record(vec![("a-b".into(), Val::U32(1))]);
        assert!(from_val(&short, &ty("r")).is_err());
        let untyped = Val::Variant("n".into(), Some(Box::new(Val::U32(1))));
        assert!(from_val(&untyped, &ty("v")).is_err());
    }

    #[test]
    fn wit_names_become_camel_case() {
        assert_eq!(camel_case("average-word-length"), "averageWordLength");
        assert_eq!(camel_case("total"), "total");
    }
}
