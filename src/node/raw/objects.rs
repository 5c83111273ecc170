//! Reading JS values through an [`Env`]: `typeof`, numbers, booleans, bigints, bytes, arrays,
//! properties, calls and scripts. Every call is sound for the reason `raw/mod.rs` gives.
use super::{made, Env, Js, JsResult, Thrown, Type};
use napi::sys;
use std::ffi::CStr;
use std::ptr::null_mut;

impl Env {
    /// The `typeof` of `v`.
    #[inline(always)]
    pub(crate) fn type_of(self, v: Js) -> Type {
        let mut t = sys::ValueType::napi_undefined;
        unsafe { sys::napi_typeof(self.raw, v.raw, &mut t) };
        match t {
            sys::ValueType::napi_undefined => Type::Undefined,
            sys::ValueType::napi_null => Type::Null,
            sys::ValueType::napi_boolean => Type::Boolean,
            sys::ValueType::napi_number => Type::Number,
            sys::ValueType::napi_string => Type::String,
            sys::ValueType::napi_symbol => Type::Symbol,
            sys::ValueType::napi_object => Type::Object,
            sys::ValueType::napi_function => Type::Function,
            sys::ValueType::napi_bigint => Type::BigInt,
            _ => Type::External,
        }
    }

    /// The `typeof` name of `v`, for error messages.
    pub(crate) fn type_name(self, v: Js) -> &'static str {
        self.type_of(v).name()
    }

    /// Is `v` undefined or null?
    #[inline(always)]
    pub(crate) fn is_nullish(self, v: Js) -> bool {
        matches!(self.type_of(v), Type::Undefined | Type::Null)
    }

    /// `obj[name]`, or `None` when the property is undefined (or `obj` has no properties).
    pub(crate) fn prop(self, obj: Js, name: &CStr) -> Option<Js> {
        let mut v = null_mut();
        let status =
            unsafe { sys::napi_get_named_property(self.raw, obj.raw, name.as_ptr(), &mut v) };
        let v = made(status, v)?;
        (self.type_of(v) != Type::Undefined).then_some(v)
    }

    /// A number's value, or `None` for a non-number.
    #[inline(always)]
    pub(crate) fn double(self, v: Js) -> Option<f64> {
        let mut d = 0f64;
        let status = unsafe { sys::napi_get_value_double(self.raw, v.raw, &mut d) };
        (status == sys::Status::napi_ok).then_some(d)
    }

    /// A boolean's value, or `None` for a non-boolean.
    #[inline(always)]
    pub(crate) fn bool_value(self, v: Js) -> Option<bool> {
        let mut b = false;
        let status = unsafe { sys::napi_get_value_bool(self.raw, v.raw, &mut b) };
        (status == sys::Status::napi_ok).then_some(b)
    }

    /// A bigint's value as an i64 and whether it fit losslessly, or `None` for a non-bigint.
    pub(crate) fn bigint_i64(self, v: Js) -> Option<(i64, bool)> {
        let (mut n, mut lossless) = (0i64, false);
        let status =
            unsafe { sys::napi_get_value_bigint_int64(self.raw, v.raw, &mut n, &mut lossless) };
        (status == sys::Status::napi_ok).then_some((n, lossless))
    }

    /// `String(v)`, or `None` when it throws (the exception stays pending).
    pub(crate) fn coerce_to_string(self, v: Js) -> Option<Js> {
        let mut s = null_mut();
        let status = unsafe { sys::napi_coerce_to_string(self.raw, v.raw, &mut s) };
        made(status, s)
    }

    /// The bytes of a Buffer or any other typed array, or `None`. They stay valid while the
    /// handle does: the whole callback (the array is reachable from the handle).
    pub(crate) fn bytes_of(self, v: &Js) -> Option<&[u8]> {
        let mut is = false;
        let mut data = null_mut();
        let mut len = 0usize;
        unsafe { sys::napi_is_buffer(self.raw, v.raw, &mut is) };
        if is {
            let status = unsafe { sys::napi_get_buffer_info(self.raw, v.raw, &mut data, &mut len) };
            if status != sys::Status::napi_ok {
                return None;
            }
        } else {
            unsafe { sys::napi_is_typedarray(self.raw, v.raw, &mut is) };
            if !is {
                return None;
            }
            let mut ty = 0;
            let mut elems = 0usize;
            let mut ab = null_mut();
            let mut off = 0usize;
            let status = unsafe {
                sys::napi_get_typedarray_info(
                    self.raw, v.raw, &mut ty, &mut elems, &mut data, &mut ab, &mut off,
                )
            };
            if status != sys::Status::napi_ok {
                return None;
            }
            let width = match ty {
                sys::TypedarrayType::int16_array | sys::TypedarrayType::uint16_array => 2,
                sys::TypedarrayType::int32_array
                | sys::TypedarrayType::uint32_array
                | sys::TypedarrayType::float32_array => 4,
                sys::TypedarrayType::float64_array
                | sys::TypedarrayType::bigint64_array
                | sys::TypedarrayType::biguint64_array => 8,
                _ => 1,
            };
            len = elems * width;
        }
        if len == 0 || data.is_null() {
            return Some(&[]);
        }
        // SAFETY: N-API reported `len` bytes at `data`, owned by the array behind `v`.
        Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) })
    }

    /// Writes `values` into the `Int32Array` `v` from its start; false if `v` is not an
    /// `Int32Array` with room for them all.
    pub(crate) fn fill_int32_array(self, v: Js, values: &[i32]) -> bool {
        let mut is = false;
        unsafe { sys::napi_is_typedarray(self.raw, v.raw, &mut is) };
        if !is {
            return false;
        }
        let (mut kind, mut len, mut data) = (0, 0usize, null_mut());
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.raw,
                v.raw,
                &mut kind,
                &mut len,
                &mut data,
                null_mut(),
                null_mut(),
            )
        };
        if status != sys::Status::napi_ok
            || kind != sys::TypedarrayType::int32_array
            || data.is_null()
            || len < values.len()
        {
            return false;
        }
        // SAFETY: the array holds `len >= values.len()` aligned i32s at `data`; no Rust
        // reference to them exists.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), data.cast::<i32>(), values.len()) };
        true
    }

    /// The length of an array, or `None` for a non-array.
    pub(crate) fn array_len(self, v: Js) -> Option<u32> {
        let mut is = false;
        unsafe { sys::napi_is_array(self.raw, v.raw, &mut is) };
        if !is {
            return None;
        }
        let mut n = 0u32;
        let status = unsafe { sys::napi_get_array_length(self.raw, v.raw, &mut n) };
        (status == sys::Status::napi_ok).then_some(n)
    }

    /// `arr[i]`; a pending exception if the read threw (a getter).
    pub(crate) fn element(self, arr: Js, i: u32) -> JsResult {
        let mut el = null_mut();
        let status = unsafe { sys::napi_get_element(self.raw, arr.raw, i, &mut el) };
        made(status, el).ok_or(Thrown)
    }

    /// `arr[i] = v`.
    pub(crate) fn set_element(self, arr: Js, i: u32, v: Js) -> JsResult<()> {
        let status = unsafe { sys::napi_set_element(self.raw, arr.raw, i, v.raw) };
        (status == sys::Status::napi_ok).then_some(()).ok_or(Thrown)
    }

    /// A new array of length `n`.
    pub(crate) fn array(self, n: usize) -> JsResult {
        let mut arr = null_mut();
        let status = unsafe { sys::napi_create_array_with_length(self.raw, n, &mut arr) };
        made(status, arr).ok_or(Thrown)
    }

    /// An object's own enumerable string keys, as an array.
    pub(crate) fn property_names(self, obj: Js) -> JsResult {
        let mut names = null_mut();
        let status = unsafe { sys::napi_get_property_names(self.raw, obj.raw, &mut names) };
        made(status, names).ok_or(Thrown)
    }

    /// `obj[key]`.
    pub(crate) fn property(self, obj: Js, key: Js) -> JsResult {
        let mut v = null_mut();
        let status = unsafe { sys::napi_get_property(self.raw, obj.raw, key.raw, &mut v) };
        made(status, v).ok_or(Thrown)
    }

    /// The global object.
    pub(crate) fn global(self) -> JsResult {
        let mut g = null_mut();
        let status = unsafe { sys::napi_get_global(self.raw, &mut g) };
        made(status, g).ok_or(Thrown)
    }

    /// `f.apply(recv, args)`; a pending exception if it threw.
    pub(crate) fn call(self, recv: Js, f: Js, args: &[Js]) -> JsResult {
        let mut out = null_mut();
        // SAFETY: `Js` is a transparent `napi_value`, so `args` is an array of handles.
        let status = unsafe {
            sys::napi_call_function(
                self.raw,
                recv.raw,
                f.raw,
                args.len(),
                args.as_ptr().cast(),
                &mut out,
            )
        };
        made(status, out).ok_or(Thrown)
    }

    /// Runs `script` (JS source) and returns its completion value.
    pub(crate) fn run_script(self, script: &str) -> JsResult {
        let mut src = null_mut();
        let mut out = null_mut();
        let ok = unsafe {
            sys::napi_create_string_utf8(
                self.raw,
                script.as_ptr().cast(),
                script.len() as isize,
                &mut src,
            ) == sys::Status::napi_ok
                && sys::napi_run_script(self.raw, src, &mut out) == sys::Status::napi_ok
        };
        if ok {
            made(sys::Status::napi_ok, out).ok_or(Thrown)
        } else {
            Err(Thrown)
        }
    }
}
