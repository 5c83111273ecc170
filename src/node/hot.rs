//! The hot methods as plain C callbacks, installed as own properties of every `TinyKV` object.
//!
//! Why: a napi-rs class method pays for unwrapping `this`, borrow tracking and a heap `String`
//! per argument (about 300 ns); these callbacks find their [`View`] in the function's data
//! pointer, read the key into a stack buffer and return `undefined` on a miss (a few tens of ns
//! of binding cost). Each function holds one `Rc<View>`, released by its finalizer, so a
//! detached method (`const { get } = kv`) keeps working and a collected store frees itself.
//! `set` and `mget` are wrapped in small JS functions (`js/set.js`, `js/mget.js`); the getOrSet
//! methods are JS functions of a few natives each handle gets (`js/get_or_set.js`).
//!
//! This file and `raw.rs` are where raw N-API is called; each `unsafe` block says why it holds.
use super::batch;
use super::get_or_set;
use super::ops::{self, Op, View};
use super::raw::{at_teardown, Env, Js, Kept};
use napi::sys;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_void, CStr};
use std::ptr::null_mut;
use std::rc::Rc;

/// Generates `extern "C"` trampolines: args + data pointer -> the op, panics caught.
macro_rules! trampolines {
    ($($name:ident => $op:path, $argc:literal;)*) => {
        $(
            unsafe extern "C" fn $name(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
                // SAFETY: V8 calls this callback on its JS thread with its own env and info.
                let env = unsafe { Env::from_raw(env) };
                env.guard(|| {
                    // SAFETY: `info` is this callback's.
                    let (argv, data) = unsafe { env.args::<$argc>(info) };
                    // SAFETY: `data` is the `Rc<View>` that `native` leaked into this function,
                    // released only by its finalizer, after the function is unreachable.
                    let view = unsafe { &*(data as *const View) };
                    $op(env, view, &argv)
                })
            }
        )*
    };
}

trampolines! {
    t_get => ops::get, 1;
    t_set => ops::set, 3;
    t_set_flat => ops::set_flat, 6;
    t_has => ops::has, 1;
    t_delete => ops::delete, 1;
    t_incr => ops::incr, 2;
    t_decr => ops::decr, 2;
    t_mget => batch::mget_packed, 3;
    t_get_buffer => ops::get_buffer, 1;
    t_claim => get_or_set::claim, 4;
    t_fresh => get_or_set::fresh, 3;
    t_finish => get_or_set::finish, 2;
    t_fail => get_or_set::fail, 2;
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The methods replaced on each instance by their raw callbacks.
const HOT: [(&CStr, Callback); 7] = [
    (c"get", t_get),
    (c"set", t_set),
    (c"has", t_has),
    (c"delete", t_delete),
    (c"incr", t_incr),
    (c"decr", t_decr),
    (c"mget", t_mget),
];

/// The JS side of `mget`, a function of the native one.
const MGET_JS: &str = include_str!("js/mget.js");

/// The JS side of `set`, a function of the native `set` and `set_flat`.
const SET_JS: &str = include_str!("js/set.js");

/// The JS side of `getOrSet`, `getOrSetJSON` and `getOrSetBuffer` (and the guard that refuses
/// to clone a handle), a function of the object and its natives.
const GET_OR_SET_JS: &str = include_str!("js/get_or_set.js");

thread_local! {
    /// Each script's factory function, run once per env (compiling a script costs about as
    /// much as the rest of a constructor), by env and script address.
    static FACTORIES: RefCell<HashMap<(usize, usize), Kept>> = RefCell::new(HashMap::new());
}

/// The factory function `script` evaluates to in `env`, run on first use.
fn factory(env: Env, script: &'static str) -> Option<Js> {
    let key = (env.raw() as usize, script.as_ptr() as usize);
    let cached = FACTORIES.with(|m| m.borrow().get(&key).and_then(|k| env.kept(k).ok()));
    if cached.is_some() {
        return cached;
    }
    let f = env.run_script(script).ok()?;
    let kept = env.keep(f).ok()?;
    let first = FACTORIES.with(|m| !m.borrow().keys().any(|k| k.0 == key.0));
    // The references die with the env: forget them before it goes (Node frees them).
    if first && at_teardown(env, Box::new(move || forget_env(key.0))).is_err() {
        return Some(f);
    }
    FACTORIES.with(|m| m.borrow_mut().insert(key, kept));
    Some(f)
}

fn forget_env(env: usize) {
    FACTORIES.with(|m| m.borrow_mut().retain(|k, _| k.0 != env));
}

/// Calls `script`'s factory (a JS function of the natives) with `natives`: the wrapped
/// method, or `None` if the script could not run.
fn wrap(env: Env, script: &'static str, natives: &[Js]) -> Option<Js> {
    env.call(env.undefined(), factory(env, script)?, natives)
        .ok()
}

unsafe extern "C" fn release(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the `Rc<View>` `native` leaked, and this finalizer runs once.
    drop(unsafe { Rc::from_raw(data as *const View) });
}

/// A native function `name` calling `cb` with `view`, which it keeps alive until collected.
fn native(env: Env, name: &CStr, cb: Callback, view: &Rc<View>) -> napi::Result<Js> {
    let data = Rc::into_raw(view.clone()) as *mut c_void;
    let mut f = null_mut();
    // SAFETY: a live env (raw.rs), a NUL-terminated name of the given length, and an
    // out-pointer to a local.
    let st = unsafe {
        sys::napi_create_function(
            env.raw(),
            name.as_ptr(),
            name.count_bytes() as isize,
            Some(cb),
            data,
            &mut f,
        )
    };
    // SAFETY (both drops): on failure nothing else holds `data`, so it is released once here.
    if st != sys::Status::napi_ok {
        drop(unsafe { Rc::from_raw(data as *const View) });
        return Err(napi::Error::from_reason("could not create a TinyKV method"));
    }
    // SAFETY: `f` was just made; `release` frees `data` when `f` is collected.
    let st = unsafe {
        sys::napi_add_finalizer(env.raw(), f, data, Some(release), null_mut(), null_mut())
    };
    if st != sys::Status::napi_ok {
        drop(unsafe { Rc::from_raw(data as *const View) });
        return Err(napi::Error::from_reason("could not attach a finalizer"));
    }
    // SAFETY: `f` is a handle N-API just made in this callback.
    Ok(unsafe { Js::from_raw(f) })
}

/// Defines the hot methods on `obj` (non-enumerable, like prototype methods), each bound to `view`.
pub(crate) fn install(env: Env, obj: Js, view: &Rc<View>) -> napi::Result<()> {
    let mut props = Vec::with_capacity(HOT.len());
    let mut get = None;
    for (name, cb) in HOT {
        let mut f = native(env, name, cb, view)?;
        if name == c"get" {
            get = Some(f);
        }
        // Each native function works alone too, so a wrapper that could not be made is skipped.
        let wrapped = if name == c"mget" {
            wrap(env, MGET_JS, &[f])
        } else if name == c"set" {
            let flat = native(env, c"set", t_set_flat, view)?;
            wrap(env, SET_JS, &[f, flat])
        } else {
            None
        };
        if let Some(w) = wrapped {
            f = w;
        }
        props.push(sys::napi_property_descriptor {
            utf8name: name.as_ptr(),
            name: null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: f.raw(),
            attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
            data: null_mut(),
        });
    }
    // SAFETY: `props` holds live handles and 'static names; N-API copies what it needs.
    let st =
        unsafe { sys::napi_define_properties(env.raw(), obj.raw(), props.len(), props.as_ptr()) };
    if st != sys::Status::napi_ok {
        return Err(napi::Error::from_reason("could not define TinyKV methods"));
    }
    install_get_or_set(env, obj, view, get)
}

/// Defines `getOrSet`, `getOrSetJSON`, `getOrSetBuffer` and the clone guard on `obj`, over
/// `get` (the handle's native get) or a new one.
pub(crate) fn install_get_or_set(
    env: Env,
    obj: Js,
    view: &Rc<View>,
    get: Option<Js>,
) -> napi::Result<()> {
    let get = match get {
        Some(g) => g,
        None => native(env, c"get", t_get, view)?,
    };
    let natives = [
        get,
        native(env, c"getBuffer", t_get_buffer, view)?,
        native(env, c"fresh", t_fresh, view)?,
        native(env, c"claim", t_claim, view)?,
        native(env, c"finish", t_finish, view)?,
        native(env, c"fail", t_fail, view)?,
    ];
    let mut argv = vec![obj];
    argv.extend(natives);
    match wrap(env, GET_OR_SET_JS, &argv) {
        Some(_) => Ok(()),
        None => Err(super::error::pending()),
    }
}

/// A handle made in the current napi-rs callback, as napi-rs's `Unknown`.
pub(crate) fn unknown(env: &napi::Env, v: Js) -> napi::Unknown<'_> {
    // SAFETY: `Js` handles are live in the callback that made them (raw/mod.rs), which is
    // the callback `env` belongs to.
    unsafe { napi::Unknown::from_raw_unchecked(env.raw(), v.raw()) }
}

/// Calls `op` from a napi-rs method (the prototype path) and maps a thrown exception.
pub(crate) fn call<'e>(
    env: &'e napi::Env,
    view: &View,
    op: Op,
    args: &[&napi::Unknown<'_>],
) -> napi::Result<napi::Unknown<'e>> {
    let e = Env::of(env);
    let argv: Vec<Js> = args.iter().map(|u| Js::of(u)).collect();
    let v = e.guard(|| op(e, view, &argv));
    if v.is_null() {
        return Err(super::error::pending());
    }
    // SAFETY: `v` is a live handle the op made in this callback's scope.
    Ok(unsafe { napi::Unknown::from_raw_unchecked(env.raw(), v) })
}
