//! Every data operation of the `TinyKV` class, written once against raw N-API handles:
//! `unsafe fn(env, &View, args) -> Js`, where a null result means a JS exception was thrown.
//! The hot ones are also installed per instance as plain C callbacks (see `hot.rs`); the class
//! methods in `class.rs` call the same functions, so both paths behave identically.
use super::error::throw_store;
use super::raw::{self, Js, KeyArg, Kind, StrBuf, Unread, STACK_KEY};
use crate::store::{Ns, SetOptions, Store, StoredKey, Ttl, Value, ValueRef};
use napi::sys;
use std::cell::RefCell;
use std::ffi::CStr;
use std::ptr::null_mut;
use std::rc::Rc;
use std::sync::Arc;

/// State shared by a `TinyKV` and all its namespace views: the store, until `close()`.
pub(crate) struct Shared {
    /// `None` once closed. Only the JS thread touches it, and no borrow is held across a call
    /// into JS, so a `RefCell` never sees a conflicting borrow.
    pub(crate) store: RefCell<Option<Arc<Store>>>,
}

/// One JS-visible handle: a store and the namespace it reads and writes.
pub(crate) struct View {
    /// The store, shared with the other views of the same `TinyKV`.
    pub(crate) shared: Rc<Shared>,
    /// This view's namespace id.
    pub(crate) ns: Ns,
    /// This view's namespace name.
    pub(crate) name: String,
}

impl View {
    /// Runs `f` on the store, or throws if the store was closed.
    #[inline(always)]
    pub(crate) unsafe fn with(
        &self,
        env: sys::napi_env,
        method: &str,
        f: impl FnOnce(&Store) -> Js,
    ) -> Js {
        let g = self.shared.store.borrow();
        match g.as_deref() {
            Some(s) => f(s),
            None => closed(env, method),
        }
    }
}

/// The longest value the view's store takes, or no limit once it is closed (the write then
/// throws that the store is closed).
#[inline(always)]
fn max_value_len(view: &View) -> usize {
    view.shared
        .store
        .borrow()
        .as_deref()
        .map_or(usize::MAX, |s| s.config().max_value_len)
}

#[cold]
pub(crate) unsafe fn closed(env: sys::napi_env, method: &str) -> Js {
    raw::throw(
        env,
        Kind::Error,
        &format!("TinyKV.{method}: the store is closed"),
    )
}

#[cold]
unsafe fn bad_key(env: sys::napi_env, method: &str, v: Js, why: Unread) -> Js {
    bad_string(env, format_args!("TinyKV.{method}: key"), v, why)
}

/// Throws the error for a string argument `what` that could not be read: a `TypeError` for
/// a non-string or a string with a lone surrogate, a `RangeError` for one that is too long.
#[cold]
#[inline(never)]
pub(crate) unsafe fn bad_string(
    env: sys::napi_env,
    what: std::fmt::Arguments<'_>,
    v: Js,
    why: Unread,
) -> Js {
    match why {
        Unread::NotString => {
            let t = raw::type_name(raw::type_of(env, v));
            raw::throw(
                env,
                Kind::Type,
                &format!("{what} must be a string, got {t}"),
            )
        }
        Unread::LoneSurrogate => raw::throw(
            env,
            Kind::Type,
            &format!(
                "{what} is not well-formed UTF-16: it holds a lone surrogate \
                 (half of a surrogate pair), which has no UTF-8 form"
            ),
        ),
        Unread::TooLong(len) => raw::throw(
            env,
            Kind::Range,
            &format!("{what} is too long ({len} bytes of UTF-8)"),
        ),
    }
}

/// Reads a key argument into `$buf` (a `StrBuf`, or with `ns` a `KeyArg`, which lays it out
/// as a stored key of that namespace) or returns after throwing a TypeError.
macro_rules! key {
    ($env:expr, $buf:ident, $v:expr, $method:expr) => {
        match $buf.read_name($env, $v) {
            Ok(k) => k,
            Err(why) => return bad_key($env, $method, $v, why),
        }
    };
    ($env:expr, $buf:ident, $v:expr, ns $ns:expr, $method:expr) => {
        match $buf.read($env, $v, $ns) {
            Ok(k) => k,
            Err(why) => return bad_key($env, $method, $v, why),
        }
    };
}

/// Converts a JS value for storage: string (UTF-8), Buffer / typed array (bytes), or finite
/// number (safe integers stay integers; other numbers keep JS's `String(n)` form).
#[inline(always)]
unsafe fn read_value(env: sys::napi_env, v: Js, max: usize, method: &str) -> Result<Value, ()> {
    let mut vb = StrBuf::<1024>::new();
    match vb.read_value(env, v, max) {
        Ok(s) => Ok(Value::Bytes(s.as_bytes().to_vec())),
        Err(Unread::NotString) => read_value_other(env, v, method),
        Err(why) => {
            value_unread(env, method, why, max);
            Err(())
        }
    }
}

/// Throws the store's own error for a value string that could not be read (too long).
#[cold]
unsafe fn value_unread(env: sys::napi_env, method: &str, why: Unread, max: usize) -> Js {
    match why {
        Unread::TooLong(len) => throw_store(env, method, &crate::Error::ValueTooLarge { len, max }),
        _ => raw::throw(
            env,
            Kind::Type,
            &format!("TinyKV.{method}: value could not be read as a string"),
        ),
    }
}

#[inline(never)]
unsafe fn read_value_other(env: sys::napi_env, v: Js, method: &str) -> Result<Value, ()> {
    if let Some(d) = raw::double(env, v) {
        if !d.is_finite() {
            raw::throw(
                env,
                Kind::Range,
                &format!("TinyKV.{method}: value must be a finite number, got {d}"),
            );
            return Err(());
        }
        if d.fract() == 0.0 && d.abs() <= 9_007_199_254_740_991.0 {
            return Ok(Value::Int(d as i64));
        }
        let mut s = null_mut();
        sys::napi_coerce_to_string(env, v, &mut s);
        let mut sb = StrBuf::<64>::new();
        return Ok(Value::Bytes(
            sb.read(env, s).unwrap_or_default().as_bytes().to_vec(),
        ));
    }
    if let Some(b) = raw::bytes_of(env, v) {
        return Ok(Value::Bytes(b.to_vec()));
    }
    let t = raw::type_name(raw::type_of(env, v));
    raw::throw(
        env,
        Kind::Type,
        &format!("TinyKV.{method}: value must be a string, Buffer or number, got {t}"),
    );
    Err(())
}

/// A TTL in ms from a JS number: finite and > 0; fractions round up.
pub(crate) unsafe fn read_ttl(
    env: sys::napi_env,
    v: Js,
    what: std::fmt::Arguments<'_>,
) -> Result<u64, ()> {
    let Some(d) = raw::double(env, v) else {
        let t = raw::type_name(raw::type_of(env, v));
        raw::throw(
            env,
            Kind::Type,
            &format!("{what} must be a number of milliseconds, got {t}"),
        );
        return Err(());
    };
    if !(d > 0.0 && d.is_finite()) {
        raw::throw(
            env,
            Kind::Range,
            &format!("{what} must be a positive, finite number of milliseconds, got {d}"),
        );
        return Err(());
    }
    Ok(d.ceil() as u64)
}

/// A boolean option's value (`undefined` for absent, which is false).
unsafe fn read_flag(env: sys::napi_env, v: Js, name: &str, method: &str) -> Result<bool, ()> {
    // The common absent flag costs one N-API call.
    let t = raw::type_of(env, v);
    if t == sys::ValueType::napi_undefined {
        return Ok(false);
    }
    if let Some(b) = raw::bool_value(env, v) {
        return Ok(b);
    }
    let t = raw::type_name(t);
    raw::throw(
        env,
        Kind::Type,
        &format!("TinyKV.{method}: options.{name} must be a boolean, got {t}"),
    );
    Err(())
}

/// The set options from the values of `ttl`, `nx`, `xx` and `keepTtl` (`undefined` for an
/// absent one), checked as one object: types, ranges and conflicts, with errors that name the
/// option. Nothing is formatted unless an option is wrong.
unsafe fn set_options_from(
    env: sys::napi_env,
    [ttl, nx, xx, keep_ttl]: [Js; 4],
    method: &str,
) -> Result<SetOptions, ()> {
    let mut o = SetOptions::default();
    if raw::type_of(env, ttl) != sys::ValueType::napi_undefined {
        o.ttl_ms = Some(read_ttl(
            env,
            ttl,
            format_args!("TinyKV.{method}: options.ttl"),
        )?);
    }
    o.nx = read_flag(env, nx, "nx", method)?;
    o.xx = read_flag(env, xx, "xx", method)?;
    o.keep_ttl = read_flag(env, keep_ttl, "keepTtl", method)?;
    if o.nx && o.xx {
        raw::throw(
            env,
            Kind::Range,
            &format!("TinyKV.{method}: options.nx and options.xx cannot both be true"),
        );
        return Err(());
    }
    if o.keep_ttl && o.ttl_ms.is_some() {
        raw::throw(
            env,
            Kind::Range,
            &format!("TinyKV.{method}: options.ttl and options.keepTtl cannot be used together"),
        );
        return Err(());
    }
    Ok(o)
}

/// Reads `{ ttl, nx, xx, keepTtl }`; undefined or null means defaults.
pub(crate) unsafe fn read_set_options(
    env: sys::napi_env,
    v: Js,
    method: &str,
) -> Result<SetOptions, ()> {
    let t = raw::type_of(env, v);
    if t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null {
        return Ok(SetOptions::default());
    }
    if t != sys::ValueType::napi_object {
        raw::throw(
            env,
            Kind::Type,
            &format!(
                "TinyKV.{method}: options must be an object, got {}",
                raw::type_name(t)
            ),
        );
        return Err(());
    }
    let field = |name: &CStr| raw::prop(env, v, name).unwrap_or_else(|| raw::undefined(env));
    let fields = [c"ttl", c"nx", c"xx", c"keepTtl"].map(field);
    set_options_from(env, fields, method)
}

/// An `incr`/`decr` step: undefined (1), a safe-integer number, or a bigint in the 64-bit range.
/// True with a bigint: the result then goes back as a bigint, exact over the whole i64 range.
unsafe fn read_step(env: sys::napi_env, v: Js, method: &str) -> Result<(i64, bool), ()> {
    match raw::type_of(env, v) {
        sys::ValueType::napi_undefined => return Ok((1, false)),
        sys::ValueType::napi_bigint => {
            let (mut n, mut lossless) = (0i64, false);
            sys::napi_get_value_bigint_int64(env, v, &mut n, &mut lossless);
            if lossless {
                return Ok((n, true));
            }
            raw::throw(
                env,
                Kind::Range,
                &format!("TinyKV.{method}: by must fit in a signed 64-bit integer"),
            );
            return Err(());
        }
        _ => {}
    }
    match raw::double(env, v) {
        Some(d) if d.fract() == 0.0 && d.abs() <= 9_007_199_254_740_991.0 => Ok((d as i64, false)),
        Some(d) => {
            raw::throw(
                env,
                Kind::Range,
                &format!("TinyKV.{method}: by must be a safe integer or a bigint, got {d}"),
            );
            Err(())
        }
        None => {
            let t = raw::type_name(raw::type_of(env, v));
            raw::throw(
                env,
                Kind::Type,
                &format!("TinyKV.{method}: by must be a number or a bigint, got {t}"),
            );
            Err(())
        }
    }
}

// ---- operations ---------------------------------------------------------------------------------

/// Values up to this many bytes are copied out of the store before `get` builds their string.
const COPY_OUT: usize = 512;

/// What `get` took from the store under the shard lock.
enum Got {
    /// A short value, copied into the caller's stack buffer (this many bytes).
    Copied(usize),
    /// An integer.
    Int(i64),
    /// A long value, whose string was built under the lock.
    Built(Js),
}

pub(crate) unsafe fn get(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "get");
    // A short value is copied to the stack and its string built after the shard lock is
    // released: building a string writes fresh V8 heap lines, and the unlock's atomic would
    // otherwise wait for those writes to drain (measured: about a tenth of a get).
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); COPY_OUT];
    view.with(env, "get", |s| {
        let got = s.get_with_key(key, |v| match v {
            ValueRef::Bytes(b) if b.len() <= COPY_OUT => {
                std::ptr::copy_nonoverlapping(b.as_ptr(), buf.as_mut_ptr().cast::<u8>(), b.len());
                Got::Copied(b.len())
            }
            ValueRef::Int(n) => Got::Int(n),
            ValueRef::Bytes(b) => Got::Built(raw::string(env, b)),
        });
        match got {
            None => raw::undefined(env),
            Some(Got::Copied(n)) => raw::string(
                env,
                std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n),
            ),
            Some(Got::Int(n)) => raw::decimal_string(env, n),
            Some(Got::Built(js)) => js,
        }
    })
}

pub(crate) unsafe fn get_buffer(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "getBuffer");
    view.with(env, "getBuffer", |s| {
        s.get_with_key(key, |v| match v {
            ValueRef::Bytes(b) => raw::buffer(env, b),
            ValueRef::Int(n) => raw::buffer(env, n.to_string().as_bytes()),
        })
        .unwrap_or_else(|| raw::undefined(env))
    })
}

/// `set` after the value has been converted (shared by `set` and `setJSON`).
unsafe fn set_value(
    env: sys::napi_env,
    view: &View,
    key: StoredKey<'_>,
    value: ValueRef<'_>,
    opts: Js,
    method: &str,
) -> Js {
    let Ok(opts) = read_set_options(env, opts, method) else {
        return null_mut();
    };
    write(env, view, key, value, &opts, method)
}

/// Writes `value` at `key` under `opts` and answers set's boolean.
unsafe fn write(
    env: sys::napi_env,
    view: &View,
    key: StoredKey<'_>,
    value: ValueRef<'_>,
    opts: &SetOptions,
    method: &str,
) -> Js {
    view.with(env, method, |s| match s.set_key(key, value, opts) {
        Ok(out) => raw::boolean(env, out.written),
        Err(e) => throw_store(env, method, &e),
    })
}

pub(crate) unsafe fn set(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    set_with(env, view, a, || read_set_options(env, a[2], "set"))
}

/// `set(key, value, ttl, nx, xx, keepTtl)`: the options object already taken apart by the JS
/// wrapper around `set` (see `hot::SET_JS`), where reading its properties costs a few ns
/// instead of a named-property lookup through N-API per option.
pub(crate) unsafe fn set_flat(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    set_with(env, view, a, || {
        set_options_from(env, [a[2], a[3], a[4], a[5]], "set")
    })
}

/// `set`'s key and value from `a[0]` and `a[1]`, then its options from `opts`.
#[inline(always)]
unsafe fn set_with(
    env: sys::napi_env,
    view: &View,
    a: &[Js],
    opts: impl FnOnce() -> Result<SetOptions, ()>,
) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "set");
    // The key's table lines load while the value is read from JS.
    if let Some(s) = view.shared.store.borrow().as_deref() {
        s.prefetch_key(key);
    }
    // A string value is borrowed from a stack buffer: the store copies it into the entry.
    let max = max_value_len(view);
    let mut vb = StrBuf::<1024>::new();
    let other;
    let value = match vb.read_value(env, a[1], max) {
        Ok(text) => ValueRef::Bytes(text.as_bytes()),
        Err(Unread::NotString) => match read_value_other(env, a[1], "set") {
            Ok(v) => {
                other = v;
                other.view()
            }
            Err(()) => return null_mut(),
        },
        Err(why) => return value_unread(env, "set", why, max),
    };
    let Ok(opts) = opts() else {
        return null_mut();
    };
    write(env, view, key, value, &opts, "set")
}

pub(crate) unsafe fn has(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "has");
    view.with(env, "has", |s| raw::boolean(env, s.exists_key(key)))
}

pub(crate) unsafe fn delete(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "delete");
    view.with(env, "delete", |s| raw::boolean(env, s.delete_key(key)))
}

pub(crate) unsafe fn ttl(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "ttl");
    view.with(env, "ttl", |s| match s.ttl_key(key) {
        Ttl::Missing => raw::number(env, -2.0),
        Ttl::Persistent => raw::number(env, -1.0),
        Ttl::Remaining(ms) => raw::number(env, ms as f64),
    })
}

pub(crate) unsafe fn expire(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "expire");
    let Ok(ms) = read_ttl(env, a[1], format_args!("TinyKV.expire: ttl")) else {
        return null_mut();
    };
    view.with(env, "expire", |s| raw::boolean(env, s.expire_key(key, ms)))
}

pub(crate) unsafe fn persist(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "persist");
    view.with(env, "persist", |s| raw::boolean(env, s.persist_key(key)))
}

unsafe fn incr_by(env: sys::napi_env, view: &View, a: &[Js], sign: i64, method: &str) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, method);
    let Ok((by, big)) = read_step(env, a[1], method) else {
        return null_mut();
    };
    // decr of i64::MIN has no i64 negation: the same overflow as the store's own.
    let Some(delta) = by.checked_mul(sign) else {
        return throw_store(env, method, &crate::Error::Overflow);
    };
    view.with(env, method, |s| match s.incr_by_key(key, delta) {
        Ok(n) if big => raw::bigint(env, n),
        Ok(n) => raw::int64(env, n),
        Err(e) => throw_store(env, method, &e),
    })
}

pub(crate) unsafe fn incr(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    incr_by(env, view, a, 1, "incr")
}

pub(crate) unsafe fn decr(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    incr_by(env, view, a, -1, "decr")
}

unsafe fn array_len(env: sys::napi_env, v: Js) -> Option<u32> {
    let mut is = false;
    sys::napi_is_array(env, v, &mut is);
    if !is {
        return None;
    }
    let mut n = 0u32;
    sys::napi_get_array_length(env, v, &mut n);
    Some(n)
}

/// Hints the CPU to fetch the heap object behind a JS handle. In Node's V8 a `napi_value`
/// points at a handle slot holding the object's tagged address; a prefetch never faults, so
/// if that representation ever changes this only stops helping.
#[inline(always)]
pub(crate) unsafe fn prefetch_js(v: Js) {
    #[cfg(target_arch = "x86_64")]
    if !v.is_null() {
        let tagged = *(v as *const usize);
        std::arch::x86_64::_mm_prefetch((tagged & !1) as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
}

pub(crate) unsafe fn mget(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let Some(n) = array_len(env, a[0]) else {
        let t = raw::type_name(raw::type_of(env, a[0]));
        return raw::throw(
            env,
            Kind::Type,
            &format!("TinyKV.mget: keys must be an array of strings, got {t}"),
        );
    };
    // Phase 1: read every key into one buffer. The key strings' cache misses are independent,
    // so the CPU overlaps them.
    let mut bytes: Vec<u8> = Vec::with_capacity(n as usize * 16);
    let mut ends: Vec<usize> = Vec::with_capacity(n as usize);
    let mut kb = StrBuf::<STACK_KEY>::new();
    let mut els: Vec<Js> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut el = null_mut();
        sys::napi_get_element(env, a[0], i, &mut el);
        prefetch_js(el);
        els.push(el);
    }
    for (i, &el) in els.iter().enumerate() {
        let k = match kb.read_name(env, el) {
            Ok(k) => k,
            Err(why) => return bad_string(env, format_args!("TinyKV.mget: keys[{i}]"), el, why),
        };
        bytes.extend_from_slice(k.as_bytes());
        ends.push(bytes.len());
    }
    let mut keys: Vec<&str> = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &end in &ends {
        keys.push(std::str::from_utf8_unchecked(&bytes[start..end]));
        start = end;
    }
    match lookup(env, view, &keys) {
        Some(found) => found.to_array(env),
        None => null_mut(),
    }
}

/// Most value bytes `mget` returns packed in one string (see [`mget_packed`]); larger batches
/// get one string per value, so no value ever keeps a big batch alive.
const PACK_LIMIT: usize = 64 * 1024;

/// Joined `mget` keys up to about this many bytes are read on the stack.
pub(crate) const MGET_STACK: usize = 4096;

/// `mget` behind the per-instance JS wrapper (see `hot.rs`): `a[1]` is the keys joined by NUL
/// (the wrapper has checked they are strings) and `a[2]` an `Int32Array` with room for one
/// end offset per key. Returns one string holding every value found, back to back, with each
/// key's end offset (or -1 when missing) in `a[2]`; the wrapper slices it. Crossing the N-API
/// boundary once per batch instead of four times per key is what makes a batch cheaper than
/// single gets. Falls back to [`mget`]'s array when a key contains NUL, the values are not
/// all ASCII (offsets would be UTF-16 units), or they pass [`PACK_LIMIT`].
pub(crate) unsafe fn mget_packed(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let Some(n) = array_len(env, a[0]) else {
        return mget(env, view, a);
    };
    let n = n as usize;
    let mut jb = StrBuf::<MGET_STACK>::new();
    // A lone surrogate in any key sends the batch to `mget`, which names the key.
    let Ok(joined) = jb.read_name(env, a[1]) else {
        return mget(env, view, a);
    };
    let Some(out_ends) = int32_array(env, a[2]) else {
        return mget(env, view, a);
    };
    let keys: Vec<&str> = joined.split('\0').collect();
    if n == 0 || keys.len() != n || out_ends.len() < n {
        return mget(env, view, a);
    }
    let Some(found) = lookup(env, view, &keys) else {
        return null_mut();
    };
    if found.bytes.len() > PACK_LIMIT || !raw::is_ascii(&found.bytes) {
        return found.to_array(env);
    }
    for (dst, end) in out_ends.iter_mut().zip(&found.ends) {
        *dst = end.map_or(-1, |e| e as i32);
    }
    raw::string(env, &found.bytes)
}

/// The values `mget` found: back to back in `bytes` (integers as decimal text), each key's
/// end offset in `ends` (`None` when missing).
struct Found {
    bytes: Vec<u8>,
    ends: Vec<Option<usize>>,
}

impl Found {
    /// A JS array with one string (or `undefined`) per key.
    unsafe fn to_array(&self, env: sys::napi_env) -> Js {
        let mut arr = null_mut();
        sys::napi_create_array_with_length(env, self.ends.len(), &mut arr);
        let mut start = 0;
        for (i, end) in self.ends.iter().enumerate() {
            let v = match *end {
                Some(end) => {
                    let v = raw::string(env, &self.bytes[start..end]);
                    start = end;
                    v
                }
                None => raw::undefined(env),
            };
            if v.is_null() {
                return v; // too long for a JS string: thrown
            }
            sys::napi_set_element(env, arr, i as u32, v);
        }
        arr
    }
}

/// Looks up every key with the store's batch read (which overlaps the keys' cache misses),
/// copying values into one buffer with no V8 call in between. `None` if a JS exception is
/// pending (the store was closed).
unsafe fn lookup(env: sys::napi_env, view: &View, keys: &[&str]) -> Option<Found> {
    let mut found = Found {
        bytes: Vec::with_capacity(keys.len() * 128),
        ends: vec![None; keys.len()],
    };
    let done = view.with(env, "mget", |s| {
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
        raw::undefined(env)
    });
    (!done.is_null()).then_some(found)
}

/// The elements of an `Int32Array`, or `None` for anything else.
unsafe fn int32_array<'a>(env: sys::napi_env, v: Js) -> Option<&'a mut [i32]> {
    let mut is = false;
    sys::napi_is_typedarray(env, v, &mut is);
    if !is {
        return None;
    }
    let mut kind = 0;
    let mut len = 0usize;
    let mut data = null_mut();
    sys::napi_get_typedarray_info(
        env,
        v,
        &mut kind,
        &mut len,
        &mut data,
        null_mut(),
        null_mut(),
    );
    if kind != sys::TypedarrayType::int32_array || data.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts_mut(data.cast::<i32>(), len))
}

pub(crate) unsafe fn mset(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let Ok(opts) = read_set_options(env, a[1], "mset") else {
        return null_mut();
    };
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let max = max_value_len(view);
    let mut kb = StrBuf::<STACK_KEY>::new();
    if let Some(n) = array_len(env, a[0]) {
        for i in 0..n {
            let mut pair = null_mut();
            sys::napi_get_element(env, a[0], i, &mut pair);
            if array_len(env, pair).is_none_or(|l| l < 2) {
                return raw::throw(
                    env,
                    Kind::Type,
                    &format!("TinyKV.mset: entries[{i}] must be a [key, value] pair"),
                );
            }
            let (mut k, mut v) = (null_mut(), null_mut());
            sys::napi_get_element(env, pair, 0, &mut k);
            sys::napi_get_element(env, pair, 1, &mut v);
            let key = match kb.read_name(env, k) {
                Ok(k) => k,
                Err(why) => {
                    return bad_string(env, format_args!("TinyKV.mset: entries[{i}][0]"), k, why)
                }
            };
            names.push(key.to_string());
            let Ok(value) = read_value(env, v, max, "mset") else {
                return null_mut();
            };
            values.push(value);
        }
    } else if raw::type_of(env, a[0]) == sys::ValueType::napi_object {
        let mut props = null_mut();
        sys::napi_get_property_names(env, a[0], &mut props);
        let n = array_len(env, props).unwrap_or(0);
        for i in 0..n {
            let (mut k, mut v) = (null_mut(), null_mut());
            sys::napi_get_element(env, props, i, &mut k);
            sys::napi_get_property(env, a[0], k, &mut v);
            let key = match kb.read_name(env, k) {
                Ok(k) => k,
                Err(why) => return bad_string(env, format_args!("TinyKV.mset: a key"), k, why),
            };
            names.push(key.to_string());
            let Ok(value) = read_value(env, v, max, "mset") else {
                return null_mut();
            };
            values.push(value);
        }
    } else {
        let t = raw::type_name(raw::type_of(env, a[0]));
        return raw::throw(
            env,
            Kind::Type,
            &format!("TinyKV.mset: entries must be an array of [key, value] pairs or a plain object, got {t}"),
        );
    }
    view.with(env, "mset", |s| {
        let entries: Vec<(&str, ValueRef<'_>)> = names
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(Value::view))
            .collect();
        match s.mset(view.ns, &entries, &opts) {
            Ok(()) => raw::undefined(env),
            Err(e) => throw_store(env, "mset", &e),
        }
    })
}

pub(crate) unsafe fn keys(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut pb = StrBuf::<STACK_KEY>::new();
    let pattern = if raw::is_nullish(env, a[0]) {
        "*"
    } else {
        match pb.read_name(env, a[0]) {
            Ok(p) => p,
            Err(why) => return bad_string(env, format_args!("TinyKV.keys: pattern"), a[0], why),
        }
    };
    view.with(env, "keys", |s| {
        let ks = s.keys(view.ns, pattern);
        let mut arr = null_mut();
        sys::napi_create_array_with_length(env, ks.len(), &mut arr);
        for (i, k) in ks.iter().enumerate() {
            let v = raw::string(env, k.as_bytes());
            if v.is_null() {
                return v;
            }
            sys::napi_set_element(env, arr, i as u32, v);
        }
        arr
    })
}

pub(crate) unsafe fn clear(env: sys::napi_env, view: &View, _a: &[Js]) -> Js {
    view.with(env, "clear", |s| {
        s.flush(view.ns);
        raw::undefined(env)
    })
}

/// `JSON[name]` and the `JSON` object.
unsafe fn json_fn(env: sys::napi_env, name: &CStr) -> (Js, Js) {
    let mut global = null_mut();
    sys::napi_get_global(env, &mut global);
    let json = raw::prop(env, global, c"JSON").unwrap_or(null_mut());
    (json, raw::prop(env, json, name).unwrap_or(null_mut()))
}

pub(crate) unsafe fn get_json(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let s = get(env, view, a);
    if s.is_null() || raw::type_of(env, s) == sys::ValueType::napi_undefined {
        return s;
    }
    let (json, parse) = json_fn(env, c"parse");
    let mut out = null_mut();
    if sys::napi_call_function(env, json, parse, 1, &s, &mut out) != sys::Status::napi_ok {
        return null_mut(); // JSON.parse threw (a SyntaxError); it stays pending
    }
    out
}

pub(crate) unsafe fn set_json(env: sys::napi_env, view: &View, a: &[Js]) -> Js {
    let mut kb = KeyArg::new();
    let key = key!(env, kb, a[0], ns view.ns, "setJSON");
    let (json, stringify) = json_fn(env, c"stringify");
    let mut text = null_mut();
    if sys::napi_call_function(env, json, stringify, 1, &a[1], &mut text) != sys::Status::napi_ok {
        return null_mut(); // stringify threw (cycle, BigInt): keep its exception
    }
    let max = max_value_len(view);
    let mut sb = StrBuf::<1024>::new();
    let t = match sb.read_value(env, text, max) {
        Ok(t) => t,
        Err(Unread::NotString) => {
            let t = raw::type_name(raw::type_of(env, a[1]));
            return raw::throw(
                env,
                Kind::Type,
                &format!("TinyKV.setJSON: value has no JSON form (got {t})"),
            );
        }
        Err(why) => return value_unread(env, "setJSON", why, max),
    };
    set_value(
        env,
        view,
        key,
        ValueRef::Bytes(t.as_bytes()),
        a[2],
        "setJSON",
    )
}
