//! TypeScript declarations of tools, from their JSON Schemas: what a model
//! reads to write code that calls them.

use std::fmt::Write;

use serde_json::Value;

use super::Tool;

/// `declare const tools: { ... }` with one documented method per tool.
pub fn declarations<'a>(tools: impl IntoIterator<Item = &'a Tool>) -> String {
    let mut out = String::from(
        "/** Host tools: each takes one input object and resolves to its JSON result. */\ndeclare const tools: {\n",
    );
    for tool in tools {
        let _ = writeln!(out, "{}", doc(&tool.description, "  "));
        let _ = writeln!(
            out,
            "  {}(input: {}): Promise<unknown>;",
            tool.name,
            type_of(&tool.schema, "  ")
        );
    }
    out.push_str("};\n");
    out
}

/// A JSDoc comment for `text`, indented.
fn doc(text: &str, indent: &str) -> String {
    let text = text.replace("*/", "*\\/");
    if text.contains('\n') {
        let lines: String = text.lines().map(|l| format!("{indent} * {l}\n")).collect();
        format!("{indent}/**\n{lines}{indent} */")
    } else {
        format!("{indent}/** {text} */")
    }
}

/// The TypeScript type a schema describes (`unknown` where it cannot say).
fn type_of(schema: &Value, indent: &str) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return union(values.iter().map(Value::to_string));
    }
    if let Some(value) = schema.get("const") {
        return value.to_string();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return union(options.iter().map(|o| type_of(o, indent)));
        }
    }
    match schema.get("type") {
        Some(Value::Array(types)) => {
            union(types.iter().map(|t| type_of(&with_type(schema, t), indent)))
        }
        Some(Value::String(kind)) => match kind.as_str() {
            "string" => "string".into(),
            "number" | "integer" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => match schema.get("items") {
                Some(items) => format!("Array<{}>", type_of(items, indent)),
                None => "unknown[]".into(),
            },
            "object" => object(schema, indent),
            _ => "unknown".into(),
        },
        _ if schema.get("properties").is_some() => object(schema, indent),
        _ => "unknown".into(),
    }
}

fn with_type(schema: &Value, kind: &Value) -> Value {
    let mut schema = schema.clone();
    schema["type"] = kind.clone();
    schema
}

fn union(types: impl Iterator<Item = String>) -> String {
    let types: Vec<String> = types.collect();
    if types.is_empty() {
        "never".into()
    } else {
        types.join(" | ")
    }
}

fn object(schema: &Value, indent: &str) -> String {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return "Record<string, unknown>".into();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut out = String::from("{\n");
    for (name, property) in properties {
        if let Some(description) = property.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "{}", doc(description, &inner));
        }
        let optional = if required.contains(&name.as_str()) {
            ""
        } else {
            "?"
        };
        let key = if super::is_identifier(name) {
            name.clone()
        } else {
            Value::from(name.as_str()).to_string()
        };
        let _ = writeln!(
            out,
            "{inner}{key}{optional}: {};",
            type_of(property, &inner)
        );
    }
    out.push_str(indent);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declares_each_tool_with_its_documented_input() {
        let search = Tool::new(
            "search",
            "Searches the catalogue",
            json!({
                "type": "object",
                "properties": {
                    "query": { "type": "string", "description": "What to look for" },
                    "limit": { "type": "integer" },
                    "sort": { "enum": ["asc", "desc"] },
                    "tags": { "type": "array", "items": { "type": "string" } },
                    "the-filter": { "type": ["string", "null"] }
                },
                "required": ["query"]
            }),
            |_| Ok(Value::Null),
        )
        .unwrap();
        let text = declarations([&search]);
        assert_eq!(
            text,
            "/** Host tools: each takes one input object and resolves to its JSON result. */\n\
             declare const tools: {\n  /** Searches the catalogue */\n  search(input: {\n    \
             limit?: number;\n    /** What to look for */\n    query: string;\n    \
             sort?: \"asc\" | \"desc\";\n    tags?: Array<string>;\n    \
             \"the-filter\"?: string | null;\n  }): Promise<unknown>;\n};\n"
        );
    }
}
