//! The constructor's option bag: its TypeScript shape (`TinyKVOptions`) and the hand-written
//! reader that turns it into a store [`Config`], so every error names the option at fault.
use super::args;
use super::raw::{Env, Js, JsResult, Kind, StrBuf, Type};
use crate::store::{parse_memory_size, Config, EvictionPolicy};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Options for `new TinyKV(options)`. Every duration is in milliseconds.
#[napi(object, js_name = "TinyKVOptions")]
#[allow(dead_code)] // read by hand in `parse_options` so errors can name the option
pub struct TinyKvOptions {
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
    /// Opens the store shared under this name by every thread of the process (the first
    /// opener creates it with its options; later openers attach, and throw a RangeError naming
    /// any cap, TTL or policy option that differs). Default: a private store.
    pub name: Option<String>,
    /// Which entry goes first when `maxEntries` or `maxMemory` is reached: `'lru'` (least
    /// recently used, sampled as Redis does; the default), `'lfu'` (least frequently used, a
    /// logarithmic counter that decays with idle time), `'volatile-ttl'` (soonest expiry first;
    /// entries without a TTL are never evicted) or `'noeviction'` (a write that needs room
    /// throws Redis's OOM error; reads keep working).
    #[napi(ts_type = "'lru' | 'lfu' | 'volatile-ttl' | 'noeviction'")]
    pub eviction_policy: Option<String>,
}

/// The options `parse_options` accepts: the fields of `TinyKVOptions` above, in JS spelling.
pub(crate) const OPTION_NAMES: [&str; 6] = [
    "maxEntries",
    "maxMemory",
    "defaultTtl",
    "namespace",
    "evictionPolicy",
    "name",
];

/// Builds a store config and the namespace name from the constructor's option bag; errors
/// name the option.
pub(crate) fn parse_options(env: Env, v: Js) -> JsResult<(Config, String)> {
    let mut config = Config::default();
    let mut ns = "default".to_string();
    let t = env.type_of(v);
    if t == Type::Undefined || t == Type::Null {
        return Ok((config, ns));
    }
    let fail = |kind: Kind, msg: String| env.throw(kind, &format!("new TinyKV: {msg}"));
    if t != Type::Object {
        return Err(fail(
            Kind::Type,
            format!("options must be an object, got {}", t.name()),
        ));
    }
    // Reject unknown keys: a misspelt `maxEntires` would otherwise silently leave a cache unbounded.
    let names = env.property_names(v)?;
    let mut sb = StrBuf::<64>::new();
    for i in 0..env.array_len(names).unwrap_or(0) {
        let k = env.element(names, i)?;
        let name = sb.read(env, k).unwrap_or_default();
        if !OPTION_NAMES.contains(&name) {
            return Err(fail(
                Kind::Type,
                format!("unknown option '{name}' (expected maxEntries, maxMemory, defaultTtl, namespace, evictionPolicy or name)"),
            ));
        }
    }
    let positive_int = |name: &str, x: Js| -> JsResult<u64> {
        match env.double(x) {
            Some(d) if d >= 1.0 && d.fract() == 0.0 && d <= 9_007_199_254_740_991.0 => Ok(d as u64),
            Some(d) => Err(fail(
                Kind::Range,
                format!("options.{name} must be a positive integer, got {d}"),
            )),
            None => Err(fail(
                Kind::Type,
                format!("options.{name} must be a number, got {}", env.type_name(x)),
            )),
        }
    };
    if let Some(x) = env.prop(v, c"maxEntries") {
        config.max_entries = Some(positive_int("maxEntries", x)? as usize);
    }
    if let Some(x) = env.prop(v, c"maxMemory") {
        let mut mb = StrBuf::<64>::new();
        config.max_memory = Some(if let Some(s) = mb.read(env, x) {
            match parse_memory_size(s) {
                Ok(0) => {
                    return Err(fail(
                        Kind::Range,
                        format!("options.maxMemory must be at least 1 byte, got '{s}'"),
                    ))
                }
                Ok(b) => b,
                Err(_) => {
                    return Err(fail(
                        Kind::Range,
                        format!("options.maxMemory '{s}' is not a size (use bytes, or a number with kb, mb or gb)"),
                    ))
                }
            }
        } else if env.type_of(x) == Type::Number {
            positive_int("maxMemory", x)?
        } else {
            let t = env.type_name(x);
            return Err(fail(
                Kind::Type,
                format!("options.maxMemory must be a number of bytes or a string such as \"64mb\", got {t}"),
            ));
        });
    }
    if let Some(x) = env.prop(v, c"defaultTtl") {
        config.default_ttl_ms = Some(args::ttl(
            env,
            x,
            format_args!("new TinyKV: options.defaultTtl"),
        )?);
    }
    if let Some(x) = env.prop(v, c"namespace") {
        let mut nb = StrBuf::<256>::new();
        let name = args::name(
            env,
            &mut nb,
            x,
            format_args!("new TinyKV: options.namespace"),
        )?;
        if name.is_empty() {
            return Err(fail(
                Kind::Range,
                "options.namespace must not be empty".into(),
            ));
        }
        ns = name.to_string();
    }
    if let Some(x) = env.prop(v, c"evictionPolicy") {
        let mut pb = StrBuf::<64>::new();
        config.eviction_policy = match pb.read(env, x) {
            Some("lru") => EvictionPolicy::Lru,
            Some("lfu") => EvictionPolicy::Lfu,
            Some("volatile-ttl") => EvictionPolicy::VolatileTtl,
            Some("noeviction") => EvictionPolicy::NoEviction,
            Some(s) => {
                return Err(fail(
                    Kind::Range,
                    format!("options.evictionPolicy must be 'lru', 'lfu', 'volatile-ttl' or 'noeviction', got '{s}'"),
                ))
            }
            None => {
                let t = env.type_name(x);
                return Err(fail(
                    Kind::Type,
                    format!("options.evictionPolicy must be a string, got {t}"),
                ));
            }
        };
    }
    Ok((config, ns))
}
