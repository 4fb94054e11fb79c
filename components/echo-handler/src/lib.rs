//! A handler component (the `handler` world of `wit/`): returns its event as
//! `{"echo": event}`. An event with string fields `key` and `value` also
//! stores the value in the host module `kv` (the `kv-store` host component)
//! and adds the key's previous value as `"previous"`.

use exports::polybox::sandbox::event_handler::Guest;
use polybox::sandbox::host_call::{CallError, call};
use polybox::sandbox::types::{ErrorKind, GuestError};
use serde_json::{Value, json};

wit_bindgen::generate!({
    world: "handler",
    path: "../../wit",
});

struct EchoHandler;

impl Guest for EchoHandler {
    fn handle(event: String) -> Result<String, GuestError> {
        let event: Value = serde_json::from_str(&event).map_err(|e| failure(e.to_string()))?;
        let mut result = json!({ "echo": event });
        if let (Some(key), Some(value)) = (event["key"].as_str(), event["value"].as_str()) {
            let args = json!([key, value]).to_string();
            let previous = call("host:kv", "swap", &args).map_err(|e| match e {
                CallError::Failed(message) | CallError::TypeMismatch(message) => failure(message),
            })?;
            result["previous"] =
                serde_json::from_str(&previous).map_err(|e| failure(e.to_string()))?;
            // Standard output goes to the sandbox's log sink.
            println!("echo-handler: {key} was {previous}");
        }
        Ok(result.to_string())
    }
}

fn failure(message: String) -> GuestError {
    GuestError {
        kind: ErrorKind::Exception,
        message,
        stack: None,
    }
}

export!(EchoHandler);
