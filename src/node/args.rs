//! Reading the data methods' arguments: keys, values, TTLs, `incr` steps and the set options,
//! each checked with an error that names the method and the argument at fault.
use super::error::throw_store;
use super::ops::View;
use super::raw::{Env, Js, JsResult, KeyArg, Kind, StrBuf, Thrown, Type, Unread};
use crate::store::{SetOptions, StoredKey, Value};
use std::ffi::CStr;

/// Reads key argument `v` of `method` into `kb`, laid out as a stored key of the view's
/// namespace, or throws.
#[inline(always)]
pub(crate) fn key<'k>(
    env: Env,
    kb: &'k mut KeyArg,
    v: Js,
    view: &View,
    method: &str,
) -> JsResult<StoredKey<'k>> {
    match kb.read(env, v, view.ns) {
        Ok(k) => Ok(k),
        Err(why) => Err(bad_string(
            env,
            format_args!("TinyKV.{method}: key"),
            v,
            why,
        )),
    }
}

/// Reads string argument `v` (a key, name or pattern: well-formed UTF-16) into `buf`, or
/// throws naming it `what`.
#[inline(always)]
pub(crate) fn name<'b, const N: usize>(
    env: Env,
    buf: &'b mut StrBuf<N>,
    v: Js,
    what: std::fmt::Arguments<'_>,
) -> JsResult<&'b str> {
    match buf.read_name(env, v) {
        Ok(s) => Ok(s),
        Err(why) => Err(bad_string(env, what, v, why)),
    }
}

/// Throws the error for a string argument `what` that could not be read: a `TypeError` for
/// a non-string or a string with a lone surrogate, a `RangeError` for one that is too long.
#[cold]
#[inline(never)]
pub(crate) fn bad_string(env: Env, what: std::fmt::Arguments<'_>, v: Js, why: Unread) -> Thrown {
    match why {
        Unread::NotString => {
            let t = env.type_name(v);
            env.throw(Kind::Type, &format!("{what} must be a string, got {t}"))
        }
        Unread::LoneSurrogate => env.throw(
            Kind::Type,
            &format!(
                "{what} is not well-formed UTF-16: it holds a lone surrogate \
                 (half of a surrogate pair), which has no UTF-8 form"
            ),
        ),
        Unread::TooLong(len) => env.throw(
            Kind::Range,
            &format!("{what} is too long ({len} bytes of UTF-8)"),
        ),
    }
}

/// Converts a JS value for storage: string (UTF-8, at most `max` bytes), Buffer / typed array
/// (bytes), or finite number (safe integers stay integers; other numbers keep JS's `String(n)`
/// form).
#[inline(always)]
pub(crate) fn value(env: Env, v: Js, max: usize, method: &str) -> JsResult<Value> {
    let mut vb = StrBuf::<1024>::new();
    match vb.read_value(env, v, max) {
        Ok(s) => Ok(Value::Bytes(s.as_bytes().to_vec())),
        Err(Unread::NotString) => value_other(env, v, method),
        Err(why) => Err(value_unread(env, method, why, max)),
    }
}

/// Throws the store's own error for a value string that could not be read (too long).
#[cold]
pub(crate) fn value_unread(env: Env, method: &str, why: Unread, max: usize) -> Thrown {
    match why {
        Unread::TooLong(len) => throw_store(env, method, &crate::Error::ValueTooLarge { len, max }),
        _ => env.throw(
            Kind::Type,
            &format!("TinyKV.{method}: value could not be read as a string"),
        ),
    }
}

/// A value that is not a string: a number or bytes.
#[inline(never)]
pub(crate) fn value_other(env: Env, v: Js, method: &str) -> JsResult<Value> {
    if let Some(d) = env.double(v) {
        if !d.is_finite() {
            return Err(env.throw(
                Kind::Range,
                &format!("TinyKV.{method}: value must be a finite number, got {d}"),
            ));
        }
        if d.fract() == 0.0 && d.abs() <= 9_007_199_254_740_991.0 {
            return Ok(Value::Int(d as i64));
        }
        let s = env.coerce_to_string(v).ok_or(Thrown)?;
        let mut sb = StrBuf::<64>::new();
        return Ok(Value::Bytes(
            sb.read(env, s).unwrap_or_default().as_bytes().to_vec(),
        ));
    }
    if let Some(b) = env.bytes_of(&v) {
        return Ok(Value::Bytes(b.to_vec()));
    }
    let t = env.type_name(v);
    Err(env.throw(
        Kind::Type,
        &format!("TinyKV.{method}: value must be a string, Buffer or number, got {t}"),
    ))
}

/// A TTL in ms from a JS number: finite and > 0; fractions round up.
pub(crate) fn ttl(env: Env, v: Js, what: std::fmt::Arguments<'_>) -> JsResult<u64> {
    let Some(d) = env.double(v) else {
        let t = env.type_name(v);
        return Err(env.throw(
            Kind::Type,
            &format!("{what} must be a number of milliseconds, got {t}"),
        ));
    };
    if !(d > 0.0 && d.is_finite()) {
        return Err(env.throw(
            Kind::Range,
            &format!("{what} must be a positive, finite number of milliseconds, got {d}"),
        ));
    }
    Ok(d.ceil() as u64)
}

/// A boolean option's value (`undefined` for absent, which is false).
fn flag(env: Env, v: Js, name: &str, method: &str) -> JsResult<bool> {
    // The common absent flag costs one N-API call.
    let t = env.type_of(v);
    if t == Type::Undefined {
        return Ok(false);
    }
    if let Some(b) = env.bool_value(v) {
        return Ok(b);
    }
    Err(env.throw(
        Kind::Type,
        &format!(
            "TinyKV.{method}: options.{name} must be a boolean, got {}",
            t.name()
        ),
    ))
}

/// The set options from the values of `ttl`, `nx`, `xx` and `keepTtl` (`undefined` for an
/// absent one), checked as one object: types, ranges and conflicts, with errors that name the
/// option. Nothing is formatted unless an option is wrong.
pub(crate) fn set_options_from(
    env: Env,
    [ttl_v, nx, xx, keep_ttl]: [Js; 4],
    method: &str,
) -> JsResult<SetOptions> {
    let mut o = SetOptions::default();
    if env.type_of(ttl_v) != Type::Undefined {
        o.ttl_ms = Some(ttl(
            env,
            ttl_v,
            format_args!("TinyKV.{method}: options.ttl"),
        )?);
    }
    o.nx = flag(env, nx, "nx", method)?;
    o.xx = flag(env, xx, "xx", method)?;
    o.keep_ttl = flag(env, keep_ttl, "keepTtl", method)?;
    if o.nx && o.xx {
        return Err(env.throw(
            Kind::Range,
            &format!("TinyKV.{method}: options.nx and options.xx cannot both be true"),
        ));
    }
    if o.keep_ttl && o.ttl_ms.is_some() {
        return Err(env.throw(
            Kind::Range,
            &format!("TinyKV.{method}: options.ttl and options.keepTtl cannot be used together"),
        ));
    }
    Ok(o)
}

/// The names of the set options, in the order [`set_options_from`] takes their values.
pub(crate) const SET_OPTIONS: [&CStr; 4] = [c"ttl", c"nx", c"xx", c"keepTtl"];

/// Reads `{ ttl, nx, xx, keepTtl }`; undefined or null means defaults.
pub(crate) fn set_options(env: Env, v: Js, method: &str) -> JsResult<SetOptions> {
    let t = env.type_of(v);
    if t == Type::Undefined || t == Type::Null {
        return Ok(SetOptions::default());
    }
    if t != Type::Object {
        return Err(env.throw(
            Kind::Type,
            &format!(
                "TinyKV.{method}: options must be an object, got {}",
                t.name()
            ),
        ));
    }
    let fields = SET_OPTIONS.map(|name| env.prop(v, name).unwrap_or_else(|| env.undefined()));
    set_options_from(env, fields, method)
}

/// An `incr`/`decr` step: undefined (1), a safe-integer number, or a bigint in the 64-bit range.
/// True with a bigint: the result then goes back as a bigint, exact over the whole i64 range.
pub(crate) fn step(env: Env, v: Js, method: &str) -> JsResult<(i64, bool)> {
    match env.type_of(v) {
        Type::Undefined => return Ok((1, false)),
        Type::BigInt => {
            return match env.bigint_i64(v) {
                Some((n, true)) => Ok((n, true)),
                _ => Err(env.throw(
                    Kind::Range,
                    &format!("TinyKV.{method}: by must fit in a signed 64-bit integer"),
                )),
            }
        }
        _ => {}
    }
    match env.double(v) {
        Some(d) if d.fract() == 0.0 && d.abs() <= 9_007_199_254_740_991.0 => Ok((d as i64, false)),
        Some(d) => Err(env.throw(
            Kind::Range,
            &format!("TinyKV.{method}: by must be a safe integer or a bigint, got {d}"),
        )),
        None => {
            let t = env.type_name(v);
            Err(env.throw(
                Kind::Type,
                &format!("TinyKV.{method}: by must be a number or a bigint, got {t}"),
            ))
        }
    }
}
