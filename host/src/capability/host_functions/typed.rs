//! Adapting typed Rust closures to raw JSON host functions through serde.

use std::fmt::Display;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RawHostFunction;

/// A closure usable as a host function: `Fn(A, B, ...) -> R` with up to eight
/// deserialisable arguments and a serialisable result.
///
/// Arguments and results cross as JSON. A JavaScript `Uint8Array` or
/// `ArrayBuffer` argument arrives as an object with the single key
/// `"\u0000bytes"` holding its base64, and a result of that form reaches
/// the handler as a `Uint8Array` (as in events and results:
/// [`LoadedJSSandbox::handle_event`](crate::LoadedJSSandbox::handle_event)).
pub trait HostFunction<Args>: Send + Sync + 'static {
    /// Converts the closure to its raw JSON form.
    fn into_raw(self) -> Arc<RawHostFunction>;
}

/// A closure usable as a fallible host function: `Fn(A, B, ...) -> Result<R, E>`
/// where the error's `Display` text becomes the guest's exception message.
pub trait FallibleHostFunction<Args>: Send + Sync + 'static {
    /// Converts the closure to its raw JSON form.
    fn into_raw(self) -> Arc<RawHostFunction>;
}

fn decode<T: DeserializeOwned>(args: &str, arity: usize) -> Result<T, String> {
    serde_json::from_str(args).map_err(|e| {
        let plural = if arity == 1 { "" } else { "s" };
        format!("expected {arity} argument{plural} of the declared types: {e}")
    })
}

fn encode<R: Serialize>(result: &R) -> Result<String, String> {
    serde_json::to_string(result)
        .map_err(|e| format!("the host function's result is not JSON: {e}"))
}

macro_rules! host_function_impls {
    ($arity:literal $(, $arg:ident)*) => {
        impl<F, R, $($arg,)*> HostFunction<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            R: Serialize,
            $($arg: DeserializeOwned,)*
        {
            #[allow(non_snake_case)]
            fn into_raw(self) -> Arc<RawHostFunction> {
                Arc::new(move |args: &str| {
                    let ($($arg,)*): ($($arg,)*) = decode_args::<($($arg,)*)>(args, $arity)?;
                    encode(&self($($arg),*))
                })
            }
        }

        impl<F, R, E, $($arg,)*> FallibleHostFunction<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> Result<R, E> + Send + Sync + 'static,
            R: Serialize,
            E: Display,
            $($arg: DeserializeOwned,)*
        {
            #[allow(non_snake_case)]
            fn into_raw(self) -> Arc<RawHostFunction> {
                Arc::new(move |args: &str| {
                    let ($($arg,)*): ($($arg,)*) = decode_args::<($($arg,)*)>(args, $arity)?;
                    encode(&self($($arg),*).map_err(|e| e.to_string())?)
                })
            }
        }
    };
}

/// Decodes the argument array into a tuple. serde reads a tuple from a JSON
/// array of exactly its length, except the empty tuple, which it reads from
/// `null`; an empty array is checked for separately.
fn decode_args<T: DeserializeOwned>(args: &str, arity: usize) -> Result<T, String> {
    if arity == 0 {
        let _: [(); 0] = decode(args, 0)?;
        return decode("null", 0);
    }
    decode(args, arity)
}

host_function_impls!(0);
host_function_impls!(1, A1);
host_function_impls!(2, A1, A2);
host_function_impls!(3, A1, A2, A3);
host_function_impls!(4, A1, A2, A3, A4);
host_function_impls!(5, A1, A2, A3, A4, A5);
host_function_impls!(6, A1, A2, A3, A4, A5, A6);
host_function_impls!(7, A1, A2, A3, A4, A5, A6, A7);
host_function_impls!(8, A1, A2, A3, A4, A5, A6, A7, A8);
