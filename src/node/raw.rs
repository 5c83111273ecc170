//! Raw N-API helpers for the hot paths: argument reading into stack buffers, value creation,
//! and throwing. Everything here runs on the JS thread that owns `env`.
use napi::sys;
use std::mem::MaybeUninit;
use std::ptr::null_mut;

/// Keys up to this many UTF-8 bytes are read into a stack buffer without allocating.
pub(crate) const STACK_KEY: usize = 256;

/// A key read from JS: either in the caller's stack buffer or, when long, on the heap.
pub(crate) struct StrBuf<const N: usize> {
    stack: [MaybeUninit<u8>; N],
    heap: Vec<u8>,
}

impl<const N: usize> StrBuf<N> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        StrBuf { stack: [MaybeUninit::uninit(); N], heap: Vec::new() }
    }

    /// Reads the JS string `v` as UTF-8. `None` when `v` is not a string.
    #[inline(always)]
    pub(crate) unsafe fn read(&mut self, env: sys::napi_env, v: sys::napi_value) -> Option<&str> {
        let mut len = 0usize;
        let st = sys::napi_get_value_string_utf8(env, v, self.stack.as_mut_ptr().cast(), N, &mut len);
        if st != sys::Status::napi_ok {
            return None;
        }
        if len + 1 < N {
            // V8 writes valid UTF-8 (lone surrogates become U+FFFD).
            let bytes = std::slice::from_raw_parts(self.stack.as_ptr().cast::<u8>(), len);
            return Some(std::str::from_utf8_unchecked(bytes));
        }
        // Possibly truncated: ask for the full length and read again on the heap.
        sys::napi_get_value_string_utf8(env, v, null_mut(), 0, &mut len);
        self.heap = Vec::with_capacity(len + 1);
        let mut got = 0usize;
        sys::napi_get_value_string_utf8(env, v, self.heap.as_mut_ptr().cast(), len + 1, &mut got);
        self.heap.set_len(got);
        Some(std::str::from_utf8_unchecked(&self.heap))
    }
}

#[inline(always)]
pub(crate) unsafe fn undefined(env: sys::napi_env) -> sys::napi_value {
    let mut u = null_mut();
    sys::napi_get_undefined(env, &mut u);
    u
}

#[inline(always)]
pub(crate) unsafe fn boolean(env: sys::napi_env, b: bool) -> sys::napi_value {
    let mut u = null_mut();
    sys::napi_get_boolean(env, b, &mut u);
    u
}

/// Creates a JS string from UTF-8 bytes, taking the one-byte (Latin-1) fast path for ASCII.
#[inline(always)]
pub(crate) unsafe fn string(env: sys::napi_env, bytes: &[u8]) -> sys::napi_value {
    let mut out = null_mut();
    if bytes.is_ascii() {
        sys::napi_create_string_latin1(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out);
    } else {
        sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out);
    }
    out
}

/// Reads up to `N` call arguments and the function's data pointer.
#[inline(always)]
pub(crate) unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> (usize, [sys::napi_value; N], *mut std::ffi::c_void) {
    let mut argc = N;
    let mut argv = [null_mut(); N];
    let mut data = null_mut();
    sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), &mut data);
    (argc, argv, data)
}

/// Throws a JS TypeError with `msg` and returns the null value N-API expects after a throw.
#[cold]
pub(crate) unsafe fn throw_type_error(env: sys::napi_env, msg: &str) -> sys::napi_value {
    let c = std::ffi::CString::new(msg).unwrap_or_default();
    sys::napi_throw_type_error(env, null_mut(), c.as_ptr());
    null_mut()
}
