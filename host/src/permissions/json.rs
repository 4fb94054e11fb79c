//! The policy's JSON form (secure-exec's shape), read once into typed
//! rules with errors that name the field, and written back.

use serde_json::{Map, Value, json};

use super::{Mode, Pattern, Permissions, Rule, Scope, ScopeName};

/// Reads a policy, every pattern parsed; the error names the field
/// (`permissions.fs.rules[2].paths[0]`) and what was expected.
pub(super) fn read(value: &Value) -> Result<Permissions, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "invalid permissions: expected an object of scopes (fs, network, env, tool), not {}",
            kind(value)
        ));
    };
    if let Some(key) = map
        .keys()
        .find(|key| !ScopeName::ALL.iter().any(|s| s.as_str() == key.as_str()))
    {
        return Err(format!(
            "invalid permissions: unknown scope {key:?} (one of fs, network, env, tool)"
        ));
    }
    Ok(Permissions {
        fs: scope(ScopeName::Fs, map)?,
        network: scope(ScopeName::Network, map)?,
        env: scope(ScopeName::Env, map)?,
        tool: scope(ScopeName::Tool, map)?,
    })
}

fn scope<P: Pattern>(
    name: ScopeName,
    map: &Map<String, Value>,
) -> Result<Option<Scope<P>>, String> {
    let at = format!("permissions.{}", name.as_str());
    match map.get(name.as_str()) {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::String(_)) => Ok(Some(Scope::Mode(mode(&at, value)?))),
        Some(Value::Object(fields)) => {
            if let Some(key) = fields
                .keys()
                .find(|k| !matches!(k.as_str(), "default" | "rules"))
            {
                return Err(format!(
                    "{at}: unknown field {key:?} (a scope has `default` and `rules`)"
                ));
            }
            let default = match fields.get("default") {
                None => Mode::Deny,
                Some(value) => mode(&format!("{at}.default"), value)?,
            };
            let rules = match fields.get("rules") {
                None => Vec::new(),
                Some(Value::Array(rules)) => rules
                    .iter()
                    .enumerate()
                    .map(|(i, value)| rule(name, &format!("{at}.rules[{i}]"), value))
                    .collect::<Result<_, _>>()?,
                Some(other) => {
                    return Err(format!(
                        "{at}.rules: expected an array of rules, not {}",
                        kind(other)
                    ));
                }
            };
            Ok(Some(Scope::Rules { default, rules }))
        }
        Some(other) => Err(format!(
            "{at}: expected \"allow\", \"deny\" or {{ \"default\", \"rules\" }}, not {}",
            kind(other)
        )),
    }
}

fn mode(at: &str, value: &Value) -> Result<Mode, String> {
    match value.as_str() {
        Some("allow") => Ok(Mode::Allow),
        Some("deny") => Ok(Mode::Deny),
        _ => Err(format!("{at}: expected \"allow\" or \"deny\", not {value}")),
    }
}

/// The field a scope's rules name their targets with.
fn field(name: ScopeName) -> &'static str {
    match name {
        ScopeName::Fs => "paths",
        _ => "patterns",
    }
}

fn rule<P: Pattern>(name: ScopeName, at: &str, value: &Value) -> Result<Rule<P>, String> {
    let Value::Object(fields) = value else {
        return Err(format!(
            "{at}: expected a rule {{ \"mode\", \"operations\", \"{}\" }}, not {}",
            field(name),
            kind(value)
        ));
    };
    let targets_field = field(name);
    for key in fields.keys() {
        match key.as_str() {
            "mode" | "operations" => {}
            key if key == targets_field => {}
            "paths" | "patterns" => {
                return Err(format!(
                    "{at}: {} rules name `{targets_field}`, not `{key}`",
                    name.as_str()
                ));
            }
            key => {
                return Err(format!(
                    "{at}: unknown field {key:?} (a rule has mode, operations and {targets_field})"
                ));
            }
        }
    }
    let mode = match fields.get("mode") {
        Some(value) => mode(&format!("{at}.mode"), value)?,
        None => {
            return Err(format!(
                "{at}.mode: missing (expected \"allow\" or \"deny\")"
            ));
        }
    };
    let operations = match fields.get("operations") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            strings(&format!("{at}.operations"), value)?
                .into_iter()
                .map(|(i, operation)| {
                    check_operation(name, &format!("{at}.operations[{i}]"), operation)
                        .map(|()| operation.to_owned())
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let targets = match fields.get(targets_field) {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            strings(&format!("{at}.{targets_field}"), value)?
                .into_iter()
                .map(|(i, text)| {
                    P::parse(text).map_err(|why| format!("{at}.{targets_field}[{i}]: {why}"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Rule {
        mode,
        operations,
        targets,
    })
}

/// A non-empty array of strings, with their indexes.
fn strings<'a>(at: &str, value: &'a Value) -> Result<Vec<(usize, &'a str)>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "{at}: expected an array of strings, not {}",
            kind(value)
        ));
    };
    if items.is_empty() {
        return Err(format!(
            "{at}: an empty list matches nothing (leave the field out to match everything)"
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_str() {
            Some(text) => Ok((i, text)),
            None => Err(format!("{at}[{i}]: expected a string, not {}", kind(item))),
        })
        .collect()
}

fn check_operation(name: ScopeName, at: &str, operation: &str) -> Result<(), String> {
    if name.operations().contains(&operation) {
        return Ok(());
    }
    Err(format!(
        "{at}: {operation:?} is not an operation of the {} scope (one of {})",
        name.as_str(),
        name.operations().join(", ")
    ))
}

/// Checks the operations of a policy built in Rust.
pub(super) fn check_operations(policy: &Permissions) -> Result<(), String> {
    fn each<P>(name: ScopeName, scope: Option<&Scope<P>>) -> Result<(), String> {
        let Some(Scope::Rules { rules, .. }) = scope else {
            return Ok(());
        };
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("permissions.{}.rules[{i}].operations", name.as_str());
            match &rule.operations {
                Some(operations) if operations.is_empty() => {
                    return Err(format!("{at}: an empty list matches nothing"));
                }
                Some(operations) => {
                    for (j, operation) in operations.iter().enumerate() {
                        check_operation(name, &format!("{at}[{j}]"), operation)?;
                    }
                }
                None => {}
            }
        }
        Ok(())
    }
    each(ScopeName::Fs, policy.fs.as_ref())?;
    each(ScopeName::Network, policy.network.as_ref())?;
    each(ScopeName::Env, policy.env.as_ref())?;
    each(ScopeName::Tool, policy.tool.as_ref())
}

/// The policy as [`read`] reads it.
pub(super) fn write(policy: &Permissions) -> Value {
    let mut map = Map::new();
    fn put<P: Pattern>(map: &mut Map<String, Value>, name: ScopeName, scope: Option<&Scope<P>>) {
        let Some(scope) = scope else { return };
        let value = match scope {
            Scope::Mode(mode) => json!(mode.as_str()),
            Scope::Rules { default, rules } => json!({
                "default": default.as_str(),
                "rules": rules.iter().map(|rule| {
                    let mut fields = Map::new();
                    fields.insert("mode".into(), json!(rule.mode.as_str()));
                    if let Some(operations) = &rule.operations {
                        fields.insert("operations".into(), json!(operations));
                    }
                    if let Some(targets) = &rule.targets {
                        let texts: Vec<String> = targets.iter().map(ToString::to_string).collect();
                        fields.insert(field(name).into(), json!(texts));
                    }
                    Value::Object(fields)
                }).collect::<Vec<_>>(),
            }),
        };
        map.insert(name.as_str().into(), value);
    }
    put(&mut map, ScopeName::Fs, policy.fs.as_ref());
    put(&mut map, ScopeName::Network, policy.network.as_ref());
    put(&mut map, ScopeName::Env, policy.env.as_ref());
    put(&mut map, ScopeName::Tool, policy.tool.as_ref());
    Value::Object(map)
}

/// What a JSON value is, for errors.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
