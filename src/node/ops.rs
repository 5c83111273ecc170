//! Every one-key data operation of the `TinyKV` class, written once in safe Rust over
//! [`raw::Env`]: `fn(env, &View, args) -> JsResult`. The hot ones are also installed per
//! instance as plain C callbacks (see `hot.rs`); the class methods in `class.rs` call the same
//! functions, so both paths behave identically. Batches (`mget`, `mset`, `keys`) are in
//! `batch.rs`; argument reading in `args.rs`.
use super::args;
use super::error::throw_store;
use super::raw::{CopyOut, Env, Js, JsResult, KeyArg, Kind, StrBuf, Thrown, Type, Unread};
use super::shared_stores::HubHold;
use crate::store::{Ns, NsGuard, SetOptions, Store, StoredKey, Ttl, ValueRef};
use std::cell::RefCell;
use std::ffi::CStr;
use std::rc::Rc;
use std::sync::Arc;

/// The signature every operation has.
pub(crate) type Op = fn(Env, &View, &[Js]) -> JsResult;

/// State shared by a `TinyKV` and all its namespace views: the store, until `close()`.
pub(crate) struct StoreSlot {
    /// `None` once closed. Only the JS thread touches it, and no borrow is held across a call
    /// into JS, so a `RefCell` never sees a conflicting borrow.
    pub(crate) store: RefCell<Option<Arc<Store>>>,
    /// This handle's count on the store's hub (shared-store registry, getOrSet flights);
    /// `None` once closed, which releases the count (`shared_stores.rs`).
    pub(crate) hub: RefCell<Option<HubHold>>,
}

/// One JS-visible handle: a store and the namespace it reads and writes.
pub(crate) struct View {
    /// The store, shared with the other views of the same `TinyKV`.
    pub(crate) shared: Rc<StoreSlot>,
    /// This view's namespace id (`hold.ns()`, kept beside it for the hot path).
    pub(crate) ns: Ns,
    /// This view's namespace name.
    pub(crate) name: String,
    /// The hold that keeps `ns` this view's namespace while the view lives: once every
    /// view of a namespace is collected and its keys are gone, the store reuses the id.
    pub(crate) _hold: NsGuard,
}

impl View {
    /// A view of the namespace `hold` holds, named `name`.
    pub(crate) fn new(shared: Rc<StoreSlot>, name: String, hold: NsGuard) -> View {
        View {
            shared,
            ns: hold.ns(),
            name,
            _hold: hold,
        }
    }
}

impl View {
    /// Runs `f` on the store, or throws if the store was closed.
    #[inline(always)]
    pub(crate) fn with(
        &self,
        env: Env,
        method: &str,
        f: impl FnOnce(&Store) -> JsResult,
    ) -> JsResult {
        let g = self.shared.store.borrow();
        match g.as_deref() {
            Some(s) => f(s),
            None => Err(closed(env, method)),
        }
    }

    /// The longest value the store takes, or no limit once it is closed (the write then
    /// throws that the store is closed).
    #[inline(always)]
    pub(crate) fn max_value_len(&self) -> usize {
        self.shared
            .store
            .borrow()
            .as_deref()
            .map_or(usize::MAX, |s| s.config().max_value_len)
    }
}

#[cold]
pub(crate) fn closed(env: Env, method: &str) -> Thrown {
    env.throw(
        Kind::Error,
        &format!("TinyKV.{method}: the store is closed"),
    )
}

/// Values up to this many bytes are copied out of the store before `get` builds their string.
const COPY_OUT: usize = 512;

/// What `get` took from the store under the shard lock.
enum Got {
    /// A short value, copied into the caller's stack buffer.
    Copied,
    /// An integer.
    Int(i64),
    /// A long value, whose string was built under the lock.
    Built(JsResult),
}

pub(crate) fn get(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "get")?;
    // A short value is copied to the stack and its string built after the shard lock is
    // released: building a string writes fresh V8 heap lines, and the unlock's atomic would
    // otherwise wait for those writes to drain (measured: about a tenth of a get).
    let mut buf = CopyOut::<COPY_OUT>::new();
    view.with(env, "get", |s| {
        let got = s.get_with(key, |v| match v {
            ValueRef::Bytes(b) if buf.fill(b) => Got::Copied,
            ValueRef::Int(n) => Got::Int(n),
            ValueRef::Bytes(b) => Got::Built(env.string(b)),
        });
        match got {
            None => Ok(env.undefined()),
            Some(Got::Copied) => env.string(buf.bytes()),
            Some(Got::Int(n)) => Ok(env.decimal_string(n)),
            Some(Got::Built(js)) => js,
        }
    })
}

pub(crate) fn get_buffer(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "getBuffer")?;
    view.with(env, "getBuffer", |s| {
        s.get_with(key, |v| match v {
            ValueRef::Bytes(b) => env.buffer(b),
            ValueRef::Int(n) => env.buffer(n.to_string().as_bytes()),
        })
        .unwrap_or_else(|| Ok(env.undefined()))
    })
}

/// Writes `value` at `key` under `opts` and answers set's boolean.
fn write(
    env: Env,
    view: &View,
    key: StoredKey<'_>,
    value: ValueRef<'_>,
    opts: &SetOptions,
    method: &str,
) -> JsResult {
    view.with(env, method, |s| match s.set_ref(key, value, opts) {
        Ok(out) => Ok(env.boolean(out.written)),
        Err(e) => Err(throw_store(env, method, &e)),
    })
}

pub(crate) fn set(env: Env, view: &View, a: &[Js]) -> JsResult {
    set_with(env, view, a, || args::set_options(env, a[2], "set"))
}

/// `set(key, value, ttl, nx, xx, keepTtl)`: the options object already taken apart by the JS
/// wrapper around `set` (see `hot.rs` and `js/set.js`), where reading its properties costs a
/// few ns instead of a named-property lookup through N-API per option.
pub(crate) fn set_flat(env: Env, view: &View, a: &[Js]) -> JsResult {
    set_with(env, view, a, || {
        args::set_options_from(env, [a[2], a[3], a[4], a[5]], "set")
    })
}

/// `set`'s key and value from `a[0]` and `a[1]`, then its options from `opts`.
#[inline(always)]
fn set_with(
    env: Env,
    view: &View,
    a: &[Js],
    opts: impl FnOnce() -> JsResult<SetOptions>,
) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "set")?;
    // The key's table lines load while the value is read from JS.
    if let Some(s) = view.shared.store.borrow().as_deref() {
        s.prefetch(key);
    }
    // A string value is borrowed from a stack buffer: the store copies it into the entry.
    let max = view.max_value_len();
    let mut vb = StrBuf::<1024>::new();
    let other;
    let value = match vb.read_value(env, a[1], max) {
        Ok(text) => ValueRef::Bytes(text.as_bytes()),
        Err(Unread::NotString) => {
            other = args::value_other(env, a[1], "set")?;
            other.view()
        }
        Err(why) => return Err(args::value_unread(env, "set", why, max)),
    };
    let opts = opts()?;
    write(env, view, key, value, &opts, "set")
}

pub(crate) fn has(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "has")?;
    view.with(env, "has", |s| Ok(env.boolean(s.exists(key))))
}

pub(crate) fn delete(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "delete")?;
    view.with(env, "delete", |s| Ok(env.boolean(s.delete(key))))
}

pub(crate) fn ttl(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "ttl")?;
    view.with(env, "ttl", |s| {
        Ok(match s.ttl(key) {
            Ttl::Missing => env.number(-2.0),
            Ttl::Persistent => env.number(-1.0),
            Ttl::Remaining(ms) => env.number(ms as f64),
        })
    })
}

pub(crate) fn expire(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "expire")?;
    let ms = args::ttl(env, a[1], format_args!("TinyKV.expire: ttl"))?;
    view.with(env, "expire", |s| Ok(env.boolean(s.expire(key, ms))))
}

pub(crate) fn persist(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "persist")?;
    view.with(env, "persist", |s| Ok(env.boolean(s.persist(key))))
}

fn incr_by(env: Env, view: &View, a: &[Js], sign: i64, method: &str) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, method)?;
    let (by, big) = args::step(env, a[1], method)?;
    // decr of i64::MIN has no i64 negation: the same overflow as the store's own.
    let Some(delta) = by.checked_mul(sign) else {
        return Err(throw_store(env, method, &crate::Error::Overflow));
    };
    view.with(env, method, |s| match s.incr_by(key, delta) {
        Ok(n) if big => Ok(env.bigint(n)),
        Ok(n) => Ok(env.int64(n)),
        Err(e) => Err(throw_store(env, method, &e)),
    })
}

pub(crate) fn incr(env: Env, view: &View, a: &[Js]) -> JsResult {
    incr_by(env, view, a, 1, "incr")
}

pub(crate) fn decr(env: Env, view: &View, a: &[Js]) -> JsResult {
    incr_by(env, view, a, -1, "decr")
}

pub(crate) fn clear(env: Env, view: &View, _a: &[Js]) -> JsResult {
    view.with(env, "clear", |s| {
        s.flush(view.ns);
        Ok(env.undefined())
    })
}

/// `JSON[name]` and the `JSON` object.
pub(crate) fn json_fn(env: Env, name: &CStr) -> JsResult<(Js, Js)> {
    let json = env.prop(env.global()?, c"JSON").ok_or(Thrown)?;
    Ok((json, env.prop(json, name).ok_or(Thrown)?))
}

pub(crate) fn get_json(env: Env, view: &View, a: &[Js]) -> JsResult {
    let s = get(env, view, a)?;
    if env.type_of(s) == Type::Undefined {
        return Ok(s);
    }
    let (json, parse) = json_fn(env, c"parse")?;
    // A SyntaxError from JSON.parse stays pending.
    env.call(json, parse, &[s])
}

pub(crate) fn set_json(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, "setJSON")?;
    let (json, stringify) = json_fn(env, c"stringify")?;
    // stringify's own exception (a cycle, a BigInt) stays pending.
    let text = env.call(json, stringify, &[a[1]])?;
    let max = view.max_value_len();
    let mut sb = StrBuf::<1024>::new();
    let t = match sb.read_value(env, text, max) {
        Ok(t) => t,
        Err(Unread::NotString) => {
            let t = env.type_name(a[1]);
            return Err(env.throw(
                Kind::Type,
                &format!("TinyKV.setJSON: value has no JSON form (got {t})"),
            ));
        }
        Err(why) => return Err(args::value_unread(env, "setJSON", why, max)),
    };
    let opts = args::set_options(env, a[2], "setJSON")?;
    write(
        env,
        view,
        key,
        ValueRef::Bytes(t.as_bytes()),
        &opts,
        "setJSON",
    )
}
