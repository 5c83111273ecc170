//! Values kept across callbacks: [`Kept`] is a strong N-API reference, and [`Env::keep`] /
//! [`Env::kept`] make and read one. Sound for the reason `raw/mod.rs` gives, plus: a reference
//! belongs to the env that made it, is read only on that env's thread (`Kept` is neither
//! `Send` nor `Sync`), and lives until that env tears down, when Node frees it; a `Kept` must
//! not be read after its env's teardown began (the caller drops it from an `at_teardown` hook).
use super::{made, Env, Js, JsResult, Thrown};
use napi::sys;
use std::marker::PhantomData;
use std::ptr::null_mut;

/// A strong reference to a JS value of one env, freed with that env.
pub(crate) struct Kept {
    /// The N-API reference (count 1).
    raw: sys::napi_ref,
    /// Not `Send`/`Sync`: a reference belongs to its JS thread.
    _thread: PhantomData<*mut ()>,
}

impl Env {
    /// Keeps `v` alive until this env tears down.
    pub(crate) fn keep(self, v: Js) -> JsResult<Kept> {
        let mut r = null_mut();
        // SAFETY: a live env and handle; an out-pointer to a local.
        let st = unsafe { sys::napi_create_reference(self.raw, v.raw, 1, &mut r) };
        if st != sys::Status::napi_ok || r.is_null() {
            return Err(Thrown);
        }
        Ok(Kept {
            raw: r,
            _thread: PhantomData,
        })
    }

    /// The value `k` keeps; `k` must have been made by this env.
    pub(crate) fn kept(self, k: &Kept) -> JsResult {
        let mut v = null_mut();
        // SAFETY: `k` is a live reference of this env (module docs).
        let st = unsafe { sys::napi_get_reference_value(self.raw, k.raw, &mut v) };
        made(st, v).ok_or(Thrown)
    }
}
