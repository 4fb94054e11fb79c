//! The functions a component exports, as JavaScript sees them: by camelCase
//! name, taking and returning JSON.

use serde_json::Value;
use wasmtime::Engine;
use wasmtime::Store;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Func, Instance, Type, Val};

use super::values::{camel_case, from_val, supported, to_val};
use crate::capability::HostCallError;
use crate::error::{Error, Result};

/// One exported function.
pub(super) struct Function {
    /// Its JavaScript name, e.g. `wordCount`.
    pub js_name: String,
    /// Its WIT name.
    name: String,
    /// Where it is among the component's exports.
    index: ComponentExportIndex,
    params: Vec<(String, Type)>,
    result: Option<Type>,
}

/// Every function `component` exports, at the top level or in an exported
/// interface. Names must be unique once camelCased, and every parameter
/// and result must have a JSON form.
pub(super) fn exported(
    component: &Component,
    engine: &Engine,
    what: &str,
) -> Result<Vec<Function>> {
    let mut functions: Vec<Function> = Vec::new();
    for (name, item) in component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(func) => {
                functions.push(Function::new(component, None, name, &func))
            }
            ComponentItem::ComponentInstance(instance) => {
                for (inner, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(func) = item.ty {
                        functions.push(Function::new(component, Some(name), inner, &func));
                    }
                }
            }
            _ => {}
        }
    }
    for (i, function) in functions.iter().enumerate() {
        if functions[..i].iter().any(|f| f.js_name == function.js_name) {
            return Err(Error::invalid_arg(format!(
                "{what} exports two functions named {:?}; JavaScript needs unique names",
                function.js_name
            )));
        }
        let types = function
            .params
            .iter()
            .map(|(_, t)| t)
            .chain(function.result.as_ref());
        if let Some(ty) = types.into_iter().find(|t| !supported(t)) {
            return Err(Error::invalid_arg(format!(
                "{what}: function {:?} uses {ty:?}, which has no JSON form (resources, streams and futures cannot be passed)",
                function.name
            )));
        }
    }
    if functions.is_empty() {
        return Err(Error::invalid_arg(format!("{what} exports no functions")));
    }
    Ok(functions)
}

impl Function {
    fn new(
        component: &Component,
        instance: Option<&str>,
        name: &str,
        func: &ComponentFunc,
    ) -> Self {
        let parent = instance.map(|instance| {
            component
                .get_export_index(None, instance)
                .expect("the component exports it")
        });
        let index = component
            .get_export_index(parent.as_ref(), name)
            .expect("the component exports it");
        Self {
            js_name: camel_case(name),
            name: name.to_owned(),
            index,
            params: func.params().map(|(n, t)| (n.to_owned(), t)).collect(),
            result: func.results().next(),
        }
    }

    /// The function in `instance` (of the component it was found in).
    pub fn lookup<T>(&self, store: &mut Store<T>, instance: &Instance) -> Option<Func> {
        instance.get_func(store, self.index)
    }

    /// The call's parameters from `args`, a JSON array.
    pub fn params(&self, module: &str, args: &str) -> Result<Vec<Val>, HostCallError> {
        let mismatch = HostCallError::TypeMismatch;
        let args: Vec<Value> = serde_json::from_str(args).map_err(|e| mismatch(format!("{e}")))?;
        if args.len() != self.params.len() {
            return Err(mismatch(format!(
                "{module}.{}: expected {} argument{}, got {}",
                self.js_name,
                self.params.len(),
                if self.params.len() == 1 { "" } else { "s" },
                args.len()
            )));
        }
        args.iter()
            .zip(&self.params)
            .map(|(arg, (name, ty))| {
                to_val(
                    arg,
                    ty,
                    &format!("{module}.{}: parameter {name:?}", self.js_name),
                )
            })
            .collect::<Result<_, _>>()
            .map_err(mismatch)
    }

    /// Room for the call's result.
    pub fn results(&self) -> Vec<Val> {
        self.result.iter().map(|_| Val::Bool(false)).collect()
    }

    /// The call's JSON result. A `result` type as the whole result is
    /// unwrapped: its error becomes the call's error.
    pub fn json(&self, results: &[Val]) -> Result<String, HostCallError> {
        let (Some(ty), Some(val)) = (&self.result, results.first()) else {
            return Ok("null".into());
        };
        let failed = |detail: String| {
            HostCallError::Failed(format!("{}: the component's result {detail}", self.js_name))
        };
        let value = match (ty, val) {
            (Type::Result(result), Val::Result(Ok(ok))) => match (result.ok(), ok) {
                (Some(ty), Some(v)) => from_val(v, &ty).map_err(failed)?,
                _ => Value::Null,
            },
            (Type::Result(result), Val::Result(Err(err))) => {
                let message = match (result.err(), err) {
                    (Some(ty), Some(v)) => match from_val(v, &ty).map_err(failed)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    },
                    _ => "the component returned an error".into(),
                };
                return Err(HostCallError::Failed(message));
            }
            (ty, val) => from_val(val, ty).map_err(failed)?,
        };
        Ok(value.to_string())
    }
}
