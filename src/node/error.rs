//! The one mapping from the crate's [`Error`] to JS errors: argument problems a caller can fix
//! become `RangeError`, everything else `Error`, with Redis's "ERR " prefix dropped and the
//! method named (`TinyKV.incr: value is not an integer or out of range`).
use super::raw::{Env, Kind, Thrown};
use crate::error::Error;

/// The JS error class and message for a store error.
pub(crate) fn classify(e: &Error) -> (Kind, String) {
    let kind = match e {
        Error::Overflow | Error::KeyTooLarge { .. } | Error::ValueTooLarge { .. } => Kind::Range,
        Error::InvalidArgument(_) | Error::InvalidNamespace(_) => Kind::Range,
        _ => Kind::Error,
    };
    let msg = e.to_string();
    let msg = msg.strip_prefix("ERR ").map(str::to_string).unwrap_or(msg);
    (kind, msg)
}

/// Throws `e` from `TinyKV.<method>` as `TinyKV.<method>: <message>`.
#[cold]
pub(crate) fn throw_store(env: Env, method: &str, e: &Error) -> Thrown {
    throw_as(env, format_args!("TinyKV.{method}"), e)
}

/// Throws `e` as `<what>: <message>`, `what` naming the call (`new TinyKV`).
#[cold]
pub(crate) fn throw_as(env: Env, what: std::fmt::Arguments<'_>, e: &Error) -> Thrown {
    let (kind, msg) = classify(e);
    env.throw(kind, &format!("{what}: {msg}"))
}

/// The napi-rs error value for "a JS exception has been thrown already" (napi-rs then leaves
/// it alone).
pub(crate) fn pending() -> napi::Error {
    napi::Error::new(napi::Status::PendingException, "exception pending")
}

impl From<Thrown> for napi::Error {
    fn from(_: Thrown) -> napi::Error {
        pending()
    }
}
