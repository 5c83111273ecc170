//! The one mapping from the crate's [`Error`] to JS errors: argument problems a caller can fix
//! become `RangeError`, everything else `Error`, with Redis's "ERR " prefix dropped.
use super::raw::{self, Kind};
use crate::error::Error;
use napi::sys;

/// The JS error class and message for a store error.
pub(crate) fn classify(e: &Error) -> (Kind, String) {
    let kind = match e {
        Error::Overflow | Error::KeyTooLarge { .. } | Error::ValueTooLarge { .. } => Kind::Range,
        Error::InvalidArgument(_) => Kind::Range,
        _ => Kind::Error,
    };
    let msg = e.to_string();
    let msg = msg.strip_prefix("ERR ").map(str::to_string).unwrap_or(msg);
    (kind, msg)
}

/// Throws `e` as the matching JS error and returns the napi-rs error that says an exception is
/// already pending (napi-rs then leaves it alone).
pub(crate) unsafe fn to_napi_error(env: sys::napi_env, e: &Error) -> napi::Error {
    let (kind, msg) = classify(e);
    raw::throw(env, kind, &msg);
    pending()
}

/// Throws `e` from a raw callback as `TinyKV.<method>: <message>`; returns the null handle.
#[cold]
pub(crate) unsafe fn throw_store(env: sys::napi_env, method: &str, e: &Error) -> raw::Js {
    let (kind, msg) = classify(e);
    raw::throw(env, kind, &format!("TinyKV.{method}: {msg}"))
}

/// The napi-rs error value for "a JS exception has been thrown already".
pub(crate) fn pending() -> napi::Error {
    napi::Error::new(napi::Status::PendingException, "exception pending")
}
