//! The constructor's option bag: its TypeScript shape (`TinyKVOptions`) and the hand-written
//! reader that turns it into a store [`Config`], so every error names the option at fault.
use super::ops;
use super::raw::{self, Js, Kind, StrBuf};
use crate::store::{parse_memory_size, Config, EvictionPolicy};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

/// Options for `new TinyKV(options)`. Every duration is in milliseconds.
#[napi(object, js_name = "TinyKVOptions")]
#[allow(dead_code)] // read by hand in `parse_options` so errors can name the option
pub struct JsTinyKvOptions {
    /// Most entries the store holds; past it `evictionPolicy` makes room.
    /// A positive integer. Default: unbounded.
    pub max_entries: Option<f64>,
    /// Most bytes the store holds, counted as the allocator sizes its keys, values and hash
    /// tables (`stats().usedMemory`); past it `evictionPolicy` makes room. A positive number of
    /// bytes, or a string such as `"64mb"` (units `b`, `k`/`kb`, `m`/`mb`, `g`/`gb`, all powers
    /// of 1024, as in Redis). Default: unbounded.
    #[napi(ts_type = "number | string")]
    pub max_memory: Option<Either<f64, String>>,
    /// TTL in ms given to entries written without one. Default: entries do not expire.
    pub default_ttl: Option<f64>,
    /// The namespace this handle reads and writes. Default: `"default"`.
    pub namespace: Option<String>,
    /// Which entry goes first when `maxEntries` or `maxMemory` is reached: `'lru'` (least
    /// recently used, sampled as Redis does; the default), `'lfu'` (least frequently used, a
    /// logarithmic counter that decays with idle time), `'volatile-ttl'` (soonest expiry first;
    /// entries without a TTL are never evicted) or `'noeviction'` (a write that needs room
    /// throws Redis's OOM error; reads keep working).
    #[napi(ts_type = "'lru' | 'lfu' | 'volatile-ttl' | 'noeviction'")]
    pub eviction_policy: Option<String>,
}

/// Builds a store config from the constructor's option bag; errors name the option.
pub(crate) unsafe fn parse_options(
    env: sys::napi_env,
    v: Js,
) -> std::result::Result<(Config, String), ()> {
    let mut config = Config::default();
    let mut ns = "default".to_string();
    let t = raw::type_of(env, v);
    if t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null {
        return Ok((config, ns));
    }
    unsafe fn fail<T>(env: sys::napi_env, kind: Kind, msg: String) -> std::result::Result<T, ()> {
        raw::throw(env, kind, &format!("new TinyKV: {msg}"));
        Err(())
    }
    if t != sys::ValueType::napi_object {
        return fail(
            env,
            Kind::Type,
            format!("options must be an object, got {}", raw::type_name(t)),
        );
    }
    // Reject unknown keys: a misspelt `maxEntires` would otherwise silently leave a cache unbounded.
    let mut names = std::ptr::null_mut();
    sys::napi_get_property_names(env, v, &mut names);
    let mut n = 0u32;
    sys::napi_get_array_length(env, names, &mut n);
    let mut sb = StrBuf::<64>::new();
    for i in 0..n {
        let mut k = std::ptr::null_mut();
        sys::napi_get_element(env, names, i, &mut k);
        let name = sb.read(env, k).unwrap_or_default();
        if !matches!(
            name,
            "maxEntries" | "maxMemory" | "defaultTtl" | "namespace" | "evictionPolicy"
        ) {
            return fail(
                env,
                Kind::Type,
                format!("unknown option '{name}' (expected maxEntries, maxMemory, defaultTtl, namespace or evictionPolicy)"),
            );
        }
    }
    let positive_int = |name: &str, x: Js| -> std::result::Result<u64, ()> {
        match raw::double(env, x) {
            Some(d) if d >= 1.0 && d.fract() == 0.0 && d <= 9_007_199_254_740_991.0 => Ok(d as u64),
            Some(d) => fail(
                env,
                Kind::Range,
                format!("options.{name} must be a positive integer, got {d}"),
            ),
            None => fail(
                env,
                Kind::Type,
                format!(
                    "options.{name} must be a number, got {}",
                    raw::type_name(raw::type_of(env, x))
                ),
            ),
        }
    };
    if let Some(x) = raw::prop(env, v, c"maxEntries") {
        config.max_entries = Some(positive_int("maxEntries", x)? as usize);
    }
    if let Some(x) = raw::prop(env, v, c"maxMemory") {
        let mut mb = StrBuf::<64>::new();
        config.max_memory = Some(if let Some(s) = mb.read(env, x) {
            match parse_memory_size(s) {
                Ok(0) => return fail(env, Kind::Range, format!("options.maxMemory must be at least 1 byte, got '{s}'")),
                Ok(b) => b,
                Err(_) => {
                    return fail(
                env,
                        Kind::Range,
                        format!("options.maxMemory '{s}' is not a size (use bytes, or a number with kb, mb or gb)"),
                    )
                }
            }
        } else if raw::type_of(env, x) == sys::ValueType::napi_number {
            positive_int("maxMemory", x)?
        } else {
            let t = raw::type_name(raw::type_of(env, x));
            return fail(env, Kind::Type, format!("options.maxMemory must be a number of bytes or a string such as \"64mb\", got {t}"));
        });
    }
    if let Some(x) = raw::prop(env, v, c"defaultTtl") {
        config.default_ttl_ms = Some(ops::read_ttl(
            env,
            x,
            format_args!("new TinyKV: options.defaultTtl"),
        )?);
    }
    if let Some(x) = raw::prop(env, v, c"namespace") {
        let mut nb = StrBuf::<256>::new();
        match nb.read_name(env, x) {
            Ok("") => {
                return fail(
                    env,
                    Kind::Range,
                    "options.namespace must not be empty".into(),
                )
            }
            Ok(s) => ns = s.to_string(),
            Err(why) => {
                ops::bad_string(env, format_args!("new TinyKV: options.namespace"), x, why);
                return Err(());
            }
        }
    }
    if let Some(x) = raw::prop(env, v, c"evictionPolicy") {
        let mut pb = StrBuf::<64>::new();
        config.eviction_policy = match pb.read(env, x) {
            Some("lru") => EvictionPolicy::Lru,
            Some("lfu") => EvictionPolicy::Lfu,
            Some("volatile-ttl") => EvictionPolicy::VolatileTtl,
            Some("noeviction") => EvictionPolicy::NoEviction,
            Some(s) => {
                return fail(
                    env,
                    Kind::Range,
                    format!("options.evictionPolicy must be 'lru', 'lfu', 'volatile-ttl' or 'noeviction', got '{s}'"),
                )
            }
            None => {
                let t = raw::type_name(raw::type_of(env, x));
                return fail(
                    env,
                    Kind::Type,
                    format!("options.evictionPolicy must be a string, got {t}"),
                );
            }
        };
    }
    Ok((config, ns))
}
