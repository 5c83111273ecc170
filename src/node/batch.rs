//! The batch operations: `mget` (plain, and packed behind its JS wrapper), `mset` and `keys`.
use super::args;
use super::error::throw_store;
use super::ops::View;
use super::raw::{self, Env, Js, JsResult, Kind, StrBuf, Type, STACK_KEY};
use crate::store::{Value, ValueRef};

pub(crate) fn mget(env: Env, view: &View, a: &[Js]) -> JsResult {
    let Some(n) = env.array_len(a[0]) else {
        let t = env.type_name(a[0]);
        return Err(env.throw(
            Kind::Type,
            &format!("TinyKV.mget: keys must be an array of strings, got {t}"),
        ));
    };
    // Phase 1: fetch every element, prefetching each key string. Their cache misses are
    // independent, so the CPU overlaps them.
    let mut els: Vec<Js> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let el = env.element(a[0], i)?;
        el.prefetch();
        els.push(el);
    }
    // Phase 2: read every key into one buffer.
    let mut joined = String::with_capacity(n as usize * 16);
    let mut ends: Vec<usize> = Vec::with_capacity(n as usize);
    let mut kb = StrBuf::<STACK_KEY>::new();
    for (i, &el) in els.iter().enumerate() {
        let k = args::name(env, &mut kb, el, format_args!("TinyKV.mget: keys[{i}]"))?;
        joined.push_str(k);
        ends.push(joined.len());
    }
    let mut keys: Vec<&str> = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &end in &ends {
        keys.push(&joined[start..end]);
        start = end;
    }
    lookup(env, view, &keys)?.to_array(env)
}

/// Most value bytes `mget` returns packed in one string (see [`mget_packed`]); larger batches
/// get one string per value, so no value ever keeps a big batch alive.
const PACK_LIMIT: usize = 64 * 1024;

/// Joined `mget` keys up to about this many bytes are read on the stack.
const MGET_STACK: usize = 4096;

/// `mget` behind the per-instance JS wrapper (`js/mget.js`): `a[1]` is the keys joined by
/// NUL (the wrapper has checked they are strings) and `a[2]` an `Int32Array` with room for
/// one end offset per key. Returns one string holding every value found, back to back, with
/// each key's end offset (or -1 when missing) in `a[2]`; the wrapper slices it. Crossing the
/// N-API boundary once per batch instead of four times per key is what makes a batch cheaper
/// than single gets. Falls back to [`mget`]'s array when a key contains NUL or a lone
/// surrogate, the values are not all ASCII (offsets would be UTF-16 units), or they pass
/// [`PACK_LIMIT`].
pub(crate) fn mget_packed(env: Env, view: &View, a: &[Js]) -> JsResult {
    let Some(n) = env.array_len(a[0]) else {
        return mget(env, view, a);
    };
    let n = n as usize;
    let mut jb = StrBuf::<MGET_STACK>::new();
    // A lone surrogate in any key sends the batch to `mget`, which names the key.
    let Ok(joined) = jb.read_name(env, a[1]) else {
        return mget(env, view, a);
    };
    let keys: Vec<&str> = joined.split('\0').collect();
    if n == 0 || keys.len() != n {
        return mget(env, view, a);
    }
    let found = lookup(env, view, &keys)?;
    if found.bytes.len() > PACK_LIMIT || !raw::is_ascii(&found.bytes) {
        return found.to_array(env);
    }
    let ends: Vec<i32> = found
        .ends
        .iter()
        .map(|e| e.map_or(-1, |e| e as i32))
        .collect();
    if !env.fill_int32_array(a[2], &ends) {
        return mget(env, view, a);
    }
    env.string(&found.bytes)
}

/// The values `mget` found: back to back in `bytes` (integers as decimal text), each key's
/// end offset in `ends` (`None` when missing).
struct Found {
    bytes: Vec<u8>,
    ends: Vec<Option<usize>>,
}

impl Found {
    /// A JS array with one string (or `undefined`) per key.
    fn to_array(&self, env: Env) -> JsResult {
        let arr = env.array(self.ends.len())?;
        let mut start = 0;
        for (i, end) in self.ends.iter().enumerate() {
            let v = match *end {
                Some(end) => {
                    let v = env.string(&self.bytes[start..end])?;
                    start = end;
                    v
                }
                None => env.undefined(),
            };
            env.set_element(arr, i as u32, v)?;
        }
        Ok(arr)
    }
}

/// Looks up every key with the store's batch read (which overlaps the keys' cache misses),
/// copying values into one buffer with no V8 call in between. Throws if the store was closed.
fn lookup(env: Env, view: &View, keys: &[&str]) -> JsResult<Found> {
    let mut found = Found {
        bytes: Vec::with_capacity(keys.len() * 128),
        ends: vec![None; keys.len()],
    };
    view.with(env, "mget", |s| {
        s.get_many_with(view.ns, keys, |i, v| {
            match v {
                ValueRef::Bytes(b) => found.bytes.extend_from_slice(b),
                ValueRef::Int(n) => {
                    use std::io::Write;
                    let _ = write!(found.bytes, "{n}");
                }
            }
            found.ends[i] = Some(found.bytes.len());
        });
        Ok(env.undefined())
    })?;
    Ok(found)
}

pub(crate) fn mset(env: Env, view: &View, a: &[Js]) -> JsResult {
    let opts = args::set_options(env, a[1], "mset")?;
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let max = view.max_value_len();
    let mut kb = StrBuf::<STACK_KEY>::new();
    if let Some(n) = env.array_len(a[0]) {
        for i in 0..n {
            let pair = env.element(a[0], i)?;
            if env.array_len(pair).is_none_or(|l| l < 2) {
                return Err(env.throw(
                    Kind::Type,
                    &format!("TinyKV.mset: entries[{i}] must be a [key, value] pair"),
                ));
            }
            let (k, v) = (env.element(pair, 0)?, env.element(pair, 1)?);
            let key = args::name(
                env,
                &mut kb,
                k,
                format_args!("TinyKV.mset: entries[{i}][0]"),
            )?;
            names.push(key.to_string());
            values.push(args::value(env, v, max, "mset")?);
        }
    } else if env.type_of(a[0]) == Type::Object {
        let props = env.property_names(a[0])?;
        let n = env.array_len(props).unwrap_or(0);
        for i in 0..n {
            let k = env.element(props, i)?;
            let v = env.property(a[0], k)?;
            let key = args::name(env, &mut kb, k, format_args!("TinyKV.mset: a key"))?;
            names.push(key.to_string());
            values.push(args::value(env, v, max, "mset")?);
        }
    } else {
        let t = env.type_name(a[0]);
        return Err(env.throw(
            Kind::Type,
            &format!("TinyKV.mset: entries must be an array of [key, value] pairs or a plain object, got {t}"),
        ));
    }
    view.with(env, "mset", |s| {
        let entries: Vec<(&str, ValueRef<'_>)> = names
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(Value::view))
            .collect();
        match s.mset(view.ns, &entries, &opts) {
            Ok(()) => Ok(env.undefined()),
            Err(e) => Err(throw_store(env, "mset", &e)),
        }
    })
}

pub(crate) fn keys(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut pb = StrBuf::<STACK_KEY>::new();
    let pattern = if env.is_nullish(a[0]) {
        "*"
    } else {
        args::name(env, &mut pb, a[0], format_args!("TinyKV.keys: pattern"))?
    };
    view.with(env, "keys", |s| {
        let ks = s.keys(view.ns, pattern);
        let arr = env.array(ks.len())?;
        for (i, k) in ks.iter().enumerate() {
            env.set_element(arr, i as u32, env.string(k.as_bytes())?)?;
        }
        Ok(arr)
    })
}
