//! Raw N-API helpers for the hot paths: reading arguments into stack buffers, creating values,
//! and throwing. A function here that returns a null `napi_value` has thrown a JS exception.
//! Everything runs on the JS thread that owns `env`.
use crate::store::{Ns, StoredKey};
use napi::sys;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr::null_mut;

/// A JS value handle; null means "an exception is pending".
pub(crate) type Js = sys::napi_value;

/// Keys up to this many UTF-8 bytes are read into a stack buffer without allocating.
pub(crate) const STACK_KEY: usize = 256;

/// A string read from JS: in this stack buffer or, when long, on the heap.
pub(crate) struct StrBuf<const N: usize> {
    stack: [MaybeUninit<u8>; N],
    heap: Vec<u8>,
}

impl<const N: usize> StrBuf<N> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        StrBuf {
            stack: [MaybeUninit::uninit(); N],
            heap: Vec::new(),
        }
    }

    /// Reads the JS string `v` as UTF-8; `None` when `v` is not a string.
    #[inline(always)]
    pub(crate) unsafe fn read(&mut self, env: sys::napi_env, v: Js) -> Option<&str> {
        // V8 writes valid UTF-8: lone surrogates become U+FFFD.
        let bytes = self.read_at(env, v, 0)?;
        Some(std::str::from_utf8_unchecked(bytes))
    }

    /// Reads the JS string `v` as UTF-8 bytes `off` bytes into the buffer, and returns those
    /// `off` bytes (zeroed, for the caller to fill) followed by the string's; `None` when `v` is
    /// not a string.
    #[inline(always)]
    unsafe fn read_at(&mut self, env: sys::napi_env, v: Js, off: usize) -> Option<&mut [u8]> {
        let mut len = 0usize;
        let out = self.stack.as_mut_ptr().add(off).cast();
        if sys::napi_get_value_string_utf8(env, v, out, N - off, &mut len) != sys::Status::napi_ok {
            return None;
        }
        if len + 1 < N - off {
            self.stack[..off].fill(MaybeUninit::new(0));
            let all = self.stack.as_mut_ptr().cast::<u8>();
            return Some(std::slice::from_raw_parts_mut(all, off + len));
        }
        self.read_long(env, v, off)
    }

    #[cold]
    unsafe fn read_long(&mut self, env: sys::napi_env, v: Js, off: usize) -> Option<&mut [u8]> {
        let mut len = 0usize;
        sys::napi_get_value_string_utf8(env, v, null_mut(), 0, &mut len);
        self.heap = vec![0; off + len + 1];
        let mut got = 0usize;
        let out = self.heap[off..].as_mut_ptr().cast();
        sys::napi_get_value_string_utf8(env, v, out, len + 1, &mut got);
        self.heap.truncate(off + got);
        Some(&mut self.heap)
    }
}

/// A key argument read straight into the store's key layout (see [`StoredKey`]): room for the
/// namespace prefix, then the key's UTF-8 bytes, on the stack when short. Spares the lookup
/// the copy `Store::get_with` makes to lay the key out.
pub(crate) struct KeyArg(StrBuf<{ StoredKey::PREFIX + STACK_KEY }>);

impl KeyArg {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        KeyArg(StrBuf::new())
    }

    /// Reads the JS string `v` as a key of namespace `ns`; `None` when `v` is not a string.
    #[inline(always)]
    pub(crate) unsafe fn read(
        &mut self,
        env: sys::napi_env,
        v: Js,
        ns: Ns,
    ) -> Option<StoredKey<'_>> {
        StoredKey::new(ns, self.0.read_at(env, v, StoredKey::PREFIX)?)
    }
}

#[inline(always)]
pub(crate) unsafe fn undefined(env: sys::napi_env) -> Js {
    let mut u = null_mut();
    sys::napi_get_undefined(env, &mut u);
    u
}

#[inline(always)]
pub(crate) unsafe fn boolean(env: sys::napi_env, b: bool) -> Js {
    let mut u = null_mut();
    sys::napi_get_boolean(env, b, &mut u);
    u
}

#[inline(always)]
pub(crate) unsafe fn number(env: sys::napi_env, n: f64) -> Js {
    let mut u = null_mut();
    sys::napi_create_double(env, n, &mut u);
    u
}

#[inline(always)]
pub(crate) unsafe fn int64(env: sys::napi_env, n: i64) -> Js {
    let mut u = null_mut();
    sys::napi_create_int64(env, n, &mut u);
    u
}

/// Creates a JS bigint.
pub(crate) unsafe fn bigint(env: sys::napi_env, n: i64) -> Js {
    let mut u = null_mut();
    sys::napi_create_bigint_int64(env, n, &mut u);
    u
}

/// Creates a JS string from UTF-8 bytes, taking the one-byte (Latin-1) fast path for ASCII.
/// Invalid UTF-8 becomes U+FFFD.
#[inline(always)]
pub(crate) unsafe fn string(env: sys::napi_env, bytes: &[u8]) -> Js {
    let mut out = null_mut();
    if is_ascii(bytes) {
        sys::napi_create_string_latin1(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out);
    } else {
        sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out);
    }
    out
}

/// Whether every byte is below 0x80. Reads 8 bytes at a time, ending with an overlapping
/// word, where std's `<[u8]>::is_ascii` checks the bytes past its last 64-byte block one at a
/// time (about 15% of an in-cache `get` of a 100-byte value, in a sampled profile).
#[inline]
pub(crate) fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |w: &[u8]| <[u8; 8]>::try_from(w).map_or(HIGH, u64::from_ne_bytes);
    if bytes.len() < 8 {
        return bytes.iter().all(|&b| b < 0x80);
    }
    let words = bytes.chunks_exact(8);
    let last = word(&bytes[bytes.len() - 8..]);
    words.fold(last, |acc, w| acc | word(w)) & HIGH == 0
}

/// A JS string holding the decimal form of `n`.
#[inline]
pub(crate) unsafe fn decimal_string(env: sys::napi_env, n: i64) -> Js {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    let mut out = null_mut();
    if n < 0 {
        let mut s = [0u8; 21];
        s[0] = b'-';
        s[1..=20 - i].copy_from_slice(&buf[i..]);
        sys::napi_create_string_latin1(env, s.as_ptr().cast(), (21 - i) as isize, &mut out);
    } else {
        sys::napi_create_string_latin1(env, buf[i..].as_ptr().cast(), (20 - i) as isize, &mut out);
    }
    out
}

/// A new Node `Buffer` holding a copy of `bytes`.
pub(crate) unsafe fn buffer(env: sys::napi_env, bytes: &[u8]) -> Js {
    let mut out = null_mut();
    let mut data = null_mut();
    if sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut out)
        != sys::Status::napi_ok
    {
        return throw(env, Kind::Error, "could not allocate a Buffer");
    }
    out
}

/// Reads up to `N` call arguments (missing ones are `undefined`) and the function's data pointer.
#[inline(always)]
pub(crate) unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> ([Js; N], *mut std::ffi::c_void) {
    let mut argc = N;
    let mut argv = [null_mut(); N];
    let mut data = null_mut();
    sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        null_mut(),
        &mut data,
    );
    (argv, data)
}

/// The `typeof` of a value (`sys::ValueType::*`).
#[inline(always)]
pub(crate) unsafe fn type_of(env: sys::napi_env, v: Js) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    sys::napi_typeof(env, v, &mut t);
    t
}

/// A name for a `typeof`, for error messages.
pub(crate) fn type_name(t: sys::napi_valuetype) -> &'static str {
    match t {
        sys::ValueType::napi_undefined => "undefined",
        sys::ValueType::napi_null => "null",
        sys::ValueType::napi_boolean => "boolean",
        sys::ValueType::napi_number => "number",
        sys::ValueType::napi_string => "string",
        sys::ValueType::napi_symbol => "symbol",
        sys::ValueType::napi_object => "object",
        sys::ValueType::napi_function => "function",
        sys::ValueType::napi_bigint => "bigint",
        _ => "external",
    }
}

/// Is `v` undefined or null?
#[inline(always)]
pub(crate) unsafe fn is_nullish(env: sys::napi_env, v: Js) -> bool {
    let t = type_of(env, v);
    t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null
}

/// `obj[name]`, or `None` when the property is undefined.
pub(crate) unsafe fn prop(env: sys::napi_env, obj: Js, name: &CStr) -> Option<Js> {
    let mut v = null_mut();
    if sys::napi_get_named_property(env, obj, name.as_ptr(), &mut v) != sys::Status::napi_ok {
        return None;
    }
    (type_of(env, v) != sys::ValueType::napi_undefined).then_some(v)
}

/// A number's value, or `None` for a non-number.
#[inline(always)]
pub(crate) unsafe fn double(env: sys::napi_env, v: Js) -> Option<f64> {
    let mut d = 0f64;
    (sys::napi_get_value_double(env, v, &mut d) == sys::Status::napi_ok).then_some(d)
}

/// A boolean's value, or `None` for a non-boolean.
#[inline(always)]
pub(crate) unsafe fn bool_value(env: sys::napi_env, v: Js) -> Option<bool> {
    let mut b = false;
    (sys::napi_get_value_bool(env, v, &mut b) == sys::Status::napi_ok).then_some(b)
}

/// The bytes of a Buffer or any other typed array / ArrayBuffer view, or `None`.
pub(crate) unsafe fn bytes_of<'a>(env: sys::napi_env, v: Js) -> Option<&'a [u8]> {
    let mut is = false;
    let mut data = null_mut();
    let mut len = 0usize;
    sys::napi_is_buffer(env, v, &mut is);
    if is {
        sys::napi_get_buffer_info(env, v, &mut data, &mut len);
    } else {
        sys::napi_is_typedarray(env, v, &mut is);
        if !is {
            return None;
        }
        let mut ty = 0;
        let mut elems = 0usize;
        let mut ab = null_mut();
        let mut off = 0usize;
        sys::napi_get_typedarray_info(env, v, &mut ty, &mut elems, &mut data, &mut ab, &mut off);
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
    if len == 0 {
        return Some(&[]);
    }
    Some(std::slice::from_raw_parts(data.cast::<u8>(), len))
}

/// Which JS error class to throw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Error`
    Error,
    /// `TypeError`: an argument of the wrong type.
    Type,
    /// `RangeError`: an argument of the right type with a value that makes no sense.
    Range,
}

/// Throws `new <kind>(msg)` and returns the null handle N-API expects after a throw.
#[cold]
#[inline(never)]
pub(crate) unsafe fn throw(env: sys::napi_env, kind: Kind, msg: &str) -> Js {
    let mut is_pending = false;
    sys::napi_is_exception_pending(env, &mut is_pending);
    if is_pending {
        return null_mut();
    }
    let c = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
    match kind {
        Kind::Error => sys::napi_throw_error(env, null_mut(), c.as_ptr()),
        Kind::Type => sys::napi_throw_type_error(env, null_mut(), c.as_ptr()),
        Kind::Range => sys::napi_throw_range_error(env, null_mut(), c.as_ptr()),
    };
    null_mut()
}

/// Runs `f`, turning a Rust panic into a thrown JS `Error` instead of unwinding into V8.
#[inline(always)]
pub(crate) unsafe fn guard(env: sys::napi_env, f: impl FnOnce() -> Js) -> Js {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            throw(
                env,
                Kind::Error,
                &format!("TinyKV internal error (Rust panic): {msg}"),
            )
        }
    }
}
