//! The `TinyKV` class as JS sees it: constructor, the set options, every member's documentation
//! (which becomes the JSDoc in `index.d.ts`), and the cold methods. The hot methods declared
//! here are the prototype fallbacks; each instance shadows them with raw callbacks (`hot.rs`).
//! The constructor's options live in `options.rs`; `stats`, `info` and `metrics` in `stats.rs`.
#![allow(clippy::new_ret_no_self)]
use super::args;
use super::batch;
use super::error::pending;
use super::hot::{self, call};
use super::ops::{self, StoreSlot, View};
use super::options::parse_options;
use super::raw::{self, Js, Kind, StrBuf};
use super::shared_stores;
use crate::store::{NsGuard, Store};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Options for `set`, `mset` and `setJSON`.
#[napi(object, js_name = "SetOptions")]
#[allow(dead_code)] // read by hand in `ops::read_set_options`
pub struct JsSetOptions {
    /// Expire the entry this many ms from now (a positive number; fractions round up).
    pub ttl: Option<f64>,
    /// Write only if the key does not exist (Redis NX). `set` then returns false if it existed.
    pub nx: Option<bool>,
    /// Write only if the key already exists (Redis XX). `set` then returns false if it did not.
    pub xx: Option<bool>,
    /// Keep the existing entry's TTL instead of clearing it (Redis KEEPTTL).
    pub keep_ttl: Option<bool>,
}

/// A local, in-process key-value cache with TTLs, LRU caps and namespaces, backed by TinyKV's
/// Rust store (sharded hash map, background reaper for expired entries).
///
/// Values are stored as bytes: strings as UTF-8, Buffers as they are, safe integers as
/// integers (so `incr` needs no parsing). `get` returns a string, `getBuffer` a Buffer.
/// All durations are in milliseconds.
///
/// ```js
/// const kv = new TinyKV({ maxEntries: 100_000, defaultTtl: 60_000 })
/// kv.set('user:1', JSON.stringify(user), { ttl: 5_000 })
/// kv.get('user:1') // string | undefined
/// ```
#[napi(js_name = "TinyKV")]
pub struct TinyKV {
    pub(crate) view: Rc<View>,
}

/// A hold on namespace `name` (registered if new), or a thrown RangeError naming `what`.
fn namespace_hold(env: raw::Env, store: &Store, name: &str, what: &str) -> Result<NsGuard> {
    store.acquire_namespace(name).map_err(|e| {
        let (_, msg) = super::error::classify(&e);
        env.throw(Kind::Range, &format!("{what}: {msg}"));
        pending()
    })
}

impl TinyKV {
    /// The store, or a thrown "closed" Error naming `method`.
    pub(crate) fn store(&self, env: &Env, method: &str) -> Result<Arc<Store>> {
        match self.view.shared.store.borrow().as_ref() {
            Some(s) => Ok(s.clone()),
            None => Err(ops::closed(raw::Env::of(env), method).into()),
        }
    }
}

#[napi]
impl TinyKV {
    /// Creates a store. Throws a TypeError or RangeError naming any option that makes no sense.
    #[napi(constructor, catch_unwind, ts_args_type = "options?: TinyKVOptions")]
    pub fn new(env: &Env, this: This, options: Unknown) -> Result<Self> {
        let e = raw::Env::of(env);
        let (config, ns_name) = parse_options(e, Js::of(&options))?;
        let hub = shared_stores::open(e, Js::of(&options), config)?;
        let store = hub.hub().store.clone();
        let hold = namespace_hold(e, &store, &ns_name, "new TinyKV: options.namespace")?;
        let shared = Rc::new(StoreSlot {
            store: RefCell::new(Some(store)),
            hub: RefCell::new(Some(hub)),
        });
        let view = Rc::new(View::new(shared, ns_name, hold));
        hot::install(e, Js::of(&this.object.to_unknown()), &view)?;
        Ok(TinyKV { view })
    }

    /// The value at `key` as a string, or `undefined` if the key is missing or expired.
    /// Integers come back in decimal; binary values are decoded as UTF-8 (use `getBuffer`).
    #[napi(
        catch_unwind,
        ts_args_type = "key: string",
        ts_return_type = "string | undefined"
    )]
    pub fn get<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::get, &[&key])
    }

    /// The value at `key` as a new Buffer (a copy), or `undefined` if missing or expired.
    #[napi(
        catch_unwind,
        ts_args_type = "key: string",
        ts_return_type = "Buffer | undefined"
    )]
    pub fn get_buffer<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::get_buffer, &[&key])
    }

    /// Stores `value` at `key`. Strings are stored as UTF-8, Buffers and typed arrays as bytes,
    /// numbers as integers when they are safe integers (else as `String(n)`).
    /// Returns false when `nx` or `xx` prevented the write, true otherwise.
    /// Without `ttl` or `keepTtl` the entry gets the store's `defaultTtl` (or none).
    #[napi(
        catch_unwind,
        ts_args_type = "key: string, value: string | Buffer | Uint8Array | number, options?: SetOptions",
        ts_return_type = "boolean"
    )]
    pub fn set<'e>(
        &self,
        env: &'e Env,
        key: Unknown,
        value: Unknown,
        options: Unknown,
    ) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::set, &[&key, &value, &options])
    }

    /// Whether `key` exists (and has not expired).
    #[napi(catch_unwind, ts_args_type = "key: string", ts_return_type = "boolean")]
    pub fn has<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::has, &[&key])
    }

    /// Removes `key`. Returns true if it existed.
    #[napi(catch_unwind, ts_args_type = "key: string", ts_return_type = "boolean")]
    pub fn delete<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::delete, &[&key])
    }

    /// Remaining time to live of `key` in ms, with Redis's answers for the other cases:
    /// `-2` if the key does not exist (or has expired), `-1` if it exists with no TTL.
    #[napi(catch_unwind, ts_args_type = "key: string", ts_return_type = "number")]
    pub fn ttl<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::ttl, &[&key])
    }

    /// Sets `key` to expire `ttl` ms from now. Returns false if the key does not exist.
    #[napi(
        catch_unwind,
        ts_args_type = "key: string, ttl: number",
        ts_return_type = "boolean"
    )]
    pub fn expire<'e>(&self, env: &'e Env, key: Unknown, ttl: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::expire, &[&key, &ttl])
    }

    /// Removes the TTL of `key`. Returns true if the key existed and had a TTL.
    #[napi(catch_unwind, ts_args_type = "key: string", ts_return_type = "boolean")]
    pub fn persist<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::persist, &[&key])
    }

    /// Adds `by` (default 1) to the integer at `key` and returns the new value. A missing key
    /// counts as 0. The store keeps a signed 64-bit integer: with a number `by` (a safe
    /// integer) the result is a number, which loses precision beyond 2^53; with a bigint `by`
    /// (`kv.incr(key, 1n)`) the result is an exact bigint. Throws an Error if the value is not
    /// an integer, a RangeError on 64-bit overflow.
    #[napi(
        catch_unwind,
        ts_generic_types = "T extends number | bigint = number",
        ts_args_type = "key: string, ...by: T extends bigint ? [by: T] : [by?: T]",
        ts_return_type = "T extends bigint ? bigint : number"
    )]
    pub fn incr<'e>(&self, env: &'e Env, key: Unknown, by: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::incr, &[&key, &by])
    }

    /// Subtracts `by` (default 1) from the integer at `key`; see `incr` (a bigint `by` gives
    /// a bigint result).
    #[napi(
        catch_unwind,
        ts_generic_types = "T extends number | bigint = number",
        ts_args_type = "key: string, ...by: T extends bigint ? [by: T] : [by?: T]",
        ts_return_type = "T extends bigint ? bigint : number"
    )]
    pub fn decr<'e>(&self, env: &'e Env, key: Unknown, by: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::decr, &[&key, &by])
    }

    /// The values of many keys in one call, in order; `undefined` for each missing key.
    /// Much cheaper than a `get` per key: one boundary crossing for the whole batch.
    #[napi(
        catch_unwind,
        ts_args_type = "keys: string[]",
        ts_return_type = "Array<string | undefined>"
    )]
    pub fn mget<'e>(&self, env: &'e Env, keys: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, batch::mget, &[&keys])
    }

    /// Writes many entries with the same options: `[[key, value], ...]` or `{ key: value }`.
    /// Every key and value is checked before any is written.
    #[napi(
        catch_unwind,
        ts_args_type = "entries: Array<[string, string | Buffer | Uint8Array | number]> | Record<string, string | Buffer | Uint8Array | number>, options?: SetOptions",
        ts_return_type = "void"
    )]
    pub fn mset<'e>(
        &self,
        env: &'e Env,
        entries: Unknown,
        options: Unknown,
    ) -> Result<Unknown<'e>> {
        call(env, &self.view, batch::mset, &[&entries, &options])
    }

    /// Live keys of this namespace matching a Redis glob `pattern` (`*`, `?`, `[abc]`, `\\`
    /// escapes), default all, in no particular order. Walks the whole store: not for hot paths.
    #[napi(
        catch_unwind,
        ts_args_type = "pattern?: string",
        ts_return_type = "string[]"
    )]
    pub fn keys<'e>(&self, env: &'e Env, pattern: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, batch::keys, &[&pattern])
    }

    /// Number of live entries in this namespace.
    #[napi(getter, catch_unwind)]
    pub fn size(&self, env: &Env) -> Result<f64> {
        Ok(self.store(env, "size")?.len(self.view.ns) as f64)
    }

    /// Removes every entry of this namespace (other namespaces are untouched).
    #[napi(catch_unwind, ts_return_type = "void")]
    pub fn clear<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::clear, &[])
    }

    /// `JSON.parse` of the value at `key`, or `undefined` if missing. Throws the SyntaxError of
    /// `JSON.parse` if the stored value is not JSON.
    #[napi(
        js_name = "getJSON",
        catch_unwind,
        ts_generic_types = "T = unknown",
        ts_args_type = "key: string",
        ts_return_type = "T | undefined"
    )]
    pub fn get_json<'e>(&self, env: &'e Env, key: Unknown) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::get_json, &[&key])
    }

    /// Stores `JSON.stringify(value)` at `key`; options and result as in `set`. Throws a
    /// TypeError for values with no JSON form (undefined, functions, symbols).
    #[napi(
        js_name = "setJSON",
        catch_unwind,
        ts_generic_types = "T = unknown",
        ts_args_type = "key: string, value: T, options?: SetOptions",
        ts_return_type = "boolean"
    )]
    pub fn set_json<'e>(
        &self,
        env: &'e Env,
        key: Unknown,
        value: Unknown,
        options: Unknown,
    ) -> Result<Unknown<'e>> {
        call(env, &self.view, ops::set_json, &[&key, &value, &options])
    }

    /// A handle on namespace `name` of the same store: same entries, caps, stats and lifetime,
    /// separate keys. `close()` on any of them closes this handle and all its views (for a
    /// named store, only this thread's handle: see `close`).
    #[napi(catch_unwind, ts_args_type = "name: string", ts_return_type = "TinyKV")]
    pub fn namespace<'e>(&self, env: &'e Env, name: Unknown) -> Result<Unknown<'e>> {
        let e = raw::Env::of(env);
        let mut nb = StrBuf::<256>::new();
        let name = args::name(
            e,
            &mut nb,
            Js::of(&name),
            format_args!("TinyKV.namespace: name"),
        )?;
        if name.is_empty() {
            return Err(e
                .throw(Kind::Range, "TinyKV.namespace: name must not be empty")
                .into());
        }
        let name = name.to_string();
        let store = self.store(env, "namespace")?;
        let hold = namespace_hold(e, &store, &name, "TinyKV.namespace")?;
        let view = Rc::new(View::new(self.view.shared.clone(), name, hold));
        let obj = TinyKV { view: view.clone() }.into_instance(env)?;
        let obj = obj.as_object(env).to_unknown();
        hot::install(e, Js::of(&obj), &view)?;
        Ok(obj)
    }

    /// The name of the namespace this handle reads and writes.
    #[napi(getter)]
    pub fn namespace_name(&self) -> String {
        self.view.name.clone()
    }

    /// Closes this handle: later calls on it or its namespace views throw. A private store is
    /// freed now (its reaper thread stopped, every entry dropped). A named store
    /// (`new TinyKV({ name })`) is freed by the last close of any handle on it, in any thread;
    /// other handles keep working. Optional: a handle that is garbage collected closes itself.
    /// Calling `close()` twice is harmless.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        let store = self.view.shared.store.borrow_mut().take();
        let hub = self.view.shared.hub.borrow_mut().take();
        drop(store);
        drop(hub); // the last hold on a store frees it: joins the reaper
    }

    /// True once `close()` has been called on this handle (or one of its namespace views).
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.view.shared.store.borrow().is_none()
    }

    /// The named stores open in this process (`new TinyKV({ name })`, from any thread), with
    /// their handle counts over every thread, sorted by name.
    #[napi(js_name = "openStores")]
    pub fn open_stores() -> Vec<shared_stores::OpenStore> {
        shared_stores::list()
    }

    /// Read-through with single flight: the value at `key` (as a string) if it is there and
    /// fresh, returned as is (no Promise: `await` it either way); otherwise a Promise. On a
    /// miss exactly one caller in the process, over every thread sharing a named store, runs
    /// `loader(key)`, stores its value (a string, Buffer or number) with `options.ttl`, and
    /// every other caller waits for that value without polling. If the loader throws or
    /// rejects, its own caller gets its error, every waiter an Error with its message, nothing
    /// is stored, and the next call loads again; if the loader's thread exits or is
    /// terminated mid-load, the waiters are rejected. With `options.staleTtl` an entry is
    /// stored for `ttl + staleTtl` ms; past `ttl` it is stale: returned at once while one
    /// caller reloads it in the background (stale-while-revalidate). Pass the same options
    /// on every call for a key.
    #[napi(
        catch_unwind,
        ts_args_type = "key: string, loader: (key: string) => string | Buffer | Uint8Array | number | Promise<string | Buffer | Uint8Array | number>, options?: GetOrSetOptions",
        ts_return_type = "string | Promise<string>"
    )]
    pub fn get_or_set<'e>(
        &self,
        env: &'e Env,
        this: This,
        key: Unknown,
        loader: Unknown,
        options: Unknown,
    ) -> Result<Unknown<'e>> {
        self.own_method(env, this, c"getOrSet", [key, loader, options])
    }

    /// `getOrSet` for JSON: the loader's value is stored as `JSON.stringify(value)` and
    /// answers are `JSON.parse`d (the leader gets its loader's value itself).
    #[napi(
        js_name = "getOrSetJSON",
        catch_unwind,
        ts_generic_types = "T = unknown",
        ts_args_type = "key: string, loader: (key: string) => T | Promise<T>, options?: GetOrSetOptions",
        ts_return_type = "T | Promise<T>"
    )]
    pub fn get_or_set_json<'e>(
        &self,
        env: &'e Env,
        this: This,
        key: Unknown,
        loader: Unknown,
        options: Unknown,
    ) -> Result<Unknown<'e>> {
        self.own_method(env, this, c"getOrSetJSON", [key, loader, options])
    }

    /// `getOrSet` answering Buffers (copies), as `getBuffer` does.
    #[napi(
        catch_unwind,
        ts_args_type = "key: string, loader: (key: string) => string | Buffer | Uint8Array | number | Promise<string | Buffer | Uint8Array | number>, options?: GetOrSetOptions",
        ts_return_type = "Buffer | Promise<Buffer>"
    )]
    pub fn get_or_set_buffer<'e>(
        &self,
        env: &'e Env,
        this: This,
        key: Unknown,
        loader: Unknown,
        options: Unknown,
    ) -> Result<Unknown<'e>> {
        self.own_method(env, this, c"getOrSetBuffer", [key, loader, options])
    }
}

/// Options for `getOrSet`, `getOrSetJSON` and `getOrSetBuffer`.
#[napi(object, js_name = "GetOrSetOptions")]
#[allow(dead_code)] // read by hand in `get_or_set::claim`
pub struct JsGetOrSetOptions {
    /// Time to live of a loaded value in ms (default: the store's `defaultTtl`, else none).
    pub ttl: Option<f64>,
    /// Stale-while-revalidate window in ms after `ttl`: a stale value is answered at once
    /// while one caller reloads it. Needs a `ttl` (or `defaultTtl`).
    pub stale_ttl: Option<f64>,
}

impl TinyKV {
    /// The prototype path of the getOrSet methods (each handle has its own, `hot.rs`):
    /// (re)installs them on `this` and calls the own method `name`.
    fn own_method<'e>(
        &self,
        env: &'e Env,
        this: This,
        name: &std::ffi::CStr,
        args: [Unknown; 3],
    ) -> Result<Unknown<'e>> {
        let e = raw::Env::of(env);
        let obj = Js::of(&this.object.to_unknown());
        hot::install_get_or_set(e, obj, &self.view, None)?;
        let f = e.prop(obj, name).ok_or_else(pending)?;
        let argv = args.map(|a| Js::of(&a));
        let v = e.call(obj, f, &argv)?;
        Ok(hot::unknown(env, v))
    }
}
