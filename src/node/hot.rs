//! The hot methods as plain C callbacks, installed as own properties of every `TinyKV` object.
//!
//! Why: a napi-rs class method pays for unwrapping `this`, borrow tracking and a heap `String`
//! per argument (about 300 ns); these callbacks find their [`View`] in the function's data
//! pointer, read the key into a stack buffer and return `undefined` on a miss (a few tens of ns
//! of binding cost). Each function holds one `Rc<View>`, released by its finalizer, so a
//! detached method (`const { get } = kv`) keeps working and a collected store frees itself.
use super::ops::{self, View};
use super::raw::{self, Js};
use napi::sys;
use std::ffi::{c_void, CStr};
use std::ptr::null_mut;
use std::rc::Rc;

type Op = unsafe fn(sys::napi_env, &View, &[Js]) -> Js;

/// Generates `extern "C"` trampolines: args + data pointer -> `ops::$op`, panics caught.
macro_rules! trampolines {
    ($($name:ident => $op:path, $argc:literal;)*) => {
        $(
            unsafe extern "C" fn $name(env: sys::napi_env, info: sys::napi_callback_info) -> Js {
                raw::guard(env, || {
                    let (argv, data) = raw::args::<$argc>(env, info);
                    let view = &*(data as *const View);
                    $op(env, view, &argv)
                })
            }
        )*
    };
}

trampolines! {
    t_get => ops::get, 1;
    t_set => ops::set, 3;
    t_has => ops::has, 1;
    t_delete => ops::delete, 1;
    t_incr => ops::incr, 2;
    t_decr => ops::decr, 2;
    t_mget => ops::mget, 1;
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> Js;

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

unsafe extern "C" fn release(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(Rc::from_raw(data as *const View));
}

/// Defines the hot methods on `obj` (non-enumerable, like prototype methods), each bound to `view`.
pub(crate) unsafe fn install(env: sys::napi_env, obj: Js, view: &Rc<View>) -> napi::Result<()> {
    let mut props = Vec::with_capacity(HOT.len());
    for (name, cb) in HOT {
        let data = Rc::into_raw(view.clone()) as *mut c_void;
        let mut f = null_mut();
        let st = sys::napi_create_function(
            env,
            name.as_ptr(),
            name.count_bytes() as isize,
            Some(cb),
            data,
            &mut f,
        );
        if st != sys::Status::napi_ok {
            drop(Rc::from_raw(data as *const View));
            return Err(napi::Error::from_reason("could not create a TinyKV method"));
        }
        if sys::napi_add_finalizer(env, f, data, Some(release), null_mut(), null_mut())
            != sys::Status::napi_ok
        {
            drop(Rc::from_raw(data as *const View));
            return Err(napi::Error::from_reason("could not attach a finalizer"));
        }
        props.push(sys::napi_property_descriptor {
            utf8name: name.as_ptr(),
            name: null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: f,
            attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
            data: null_mut(),
        });
    }
    if sys::napi_define_properties(env, obj, props.len(), props.as_ptr()) != sys::Status::napi_ok {
        return Err(napi::Error::from_reason("could not define TinyKV methods"));
    }
    Ok(())
}

/// Calls `op` from a napi-rs method (the prototype path) and maps a thrown exception.
pub(crate) unsafe fn call<'e>(
    env: &'e napi::Env,
    view: &View,
    op: Op,
    args: &[Js],
) -> napi::Result<napi::Unknown<'e>> {
    let v = raw::guard(env.raw(), || op(env.raw(), view, args));
    if v.is_null() {
        return Err(super::error::pending());
    }
    Ok(napi::Unknown::from_raw_unchecked(env.raw(), v))
}
