//! Raw N-API helpers for the hot paths: reading arguments into stack buffers, creating values,
//! and throwing. A function here that returns a null `napi_value` has thrown a JS exception.
//! Everything runs on the JS thread that owns `env`.
//!
//! Reading a string is the one place where a shortcut could change an answer: V8 copies only
//! whole characters into a buffer, so a read that fills a buffer may have stopped short of
//! the string's end by up to one character (4 bytes). A stack read counts as whole only when
//! at least that much room was left over; anything else is read again at its full length.
use crate::store::{Ns, StoredKey};
use napi::sys;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr::null_mut;

/// A JS value handle; null means "an exception is pending".
pub(crate) type Js = sys::napi_value;

/// Keys up to this many UTF-8 bytes (less [`MAX_CHAR`]) are read into a stack buffer without
/// allocating.
pub(crate) const STACK_KEY: usize = 256;

/// The most UTF-8 bytes V8 writes for one character (a surrogate pair).
const MAX_CHAR: usize = 4;

/// Why a string argument could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unread {
    /// The value is not a string.
    NotString,
    /// The string holds a lone surrogate (not well-formed UTF-16), so it has no UTF-8 form
    /// of its own: V8 would write U+FFFD for it, and two different keys would meet.
    LoneSurrogate,
    /// The string's UTF-8 form has this many bytes, more than the caller allows.
    TooLong(usize),
}

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

    /// Reads the JS string `v` as UTF-8 (lone surrogates become U+FFFD, as `TextEncoder`
    /// writes them); `None` when `v` is not a string. For option words and values.
    #[inline(always)]
    pub(crate) unsafe fn read(&mut self, env: sys::napi_env, v: Js) -> Option<&str> {
        self.read_checked(env, v, false, usize::MAX).ok()
    }

    /// Reads a value string of at most `max` UTF-8 bytes; lone surrogates become U+FFFD.
    #[inline(always)]
    pub(crate) unsafe fn read_value(
        &mut self,
        env: sys::napi_env,
        v: Js,
        max: usize,
    ) -> Result<&str, Unread> {
        self.read_checked(env, v, false, max)
    }

    /// Reads a key, namespace name or pattern: a string that must be well-formed UTF-16, so
    /// that two different JS strings never read as the same bytes.
    #[inline(always)]
    pub(crate) unsafe fn read_name(&mut self, env: sys::napi_env, v: Js) -> Result<&str, Unread> {
        self.read_checked(env, v, true, usize::MAX)
    }

    #[inline(always)]
    unsafe fn read_checked(
        &mut self,
        env: sys::napi_env,
        v: Js,
        strict: bool,
        max: usize,
    ) -> Result<&str, Unread> {
        let bytes = self.read_at(env, v, 0, strict, max)?;
        // V8 writes valid UTF-8.
        Ok(std::str::from_utf8_unchecked(bytes))
    }

    /// Reads the JS string `v` as UTF-8 bytes `off` bytes into the buffer, and returns those
    /// `off` bytes (zeroed, for the caller to fill) followed by the string's. With `strict`,
    /// a string with a lone surrogate is refused; a string of more than `max` bytes is
    /// refused before it is copied.
    #[inline(always)]
    unsafe fn read_at(
        &mut self,
        env: sys::napi_env,
        v: Js,
        off: usize,
        strict: bool,
        max: usize,
    ) -> Result<&mut [u8], Unread> {
        let mut len = 0usize;
        let room = N - off;
        let out = self.stack.as_mut_ptr().add(off).cast();
        if sys::napi_get_value_string_utf8(env, v, out, room, &mut len) != sys::Status::napi_ok {
            return Err(Unread::NotString);
        }
        // V8 leaves one byte for the NUL and copies whole characters only, so a copy that
        // stopped short has `len + MAX_CHAR >= room`. Below that the copy is the whole string.
        if len + MAX_CHAR >= room {
            return self.read_long(env, v, off, strict, max);
        }
        if len > max {
            return Err(Unread::TooLong(len));
        }
        self.stack[..off].fill(MaybeUninit::new(0));
        let all = std::slice::from_raw_parts_mut(self.stack.as_mut_ptr().cast::<u8>(), off + len);
        if strict && maybe_replaced(&all[off..]) && !well_formed(env, v) {
            return Err(Unread::LoneSurrogate);
        }
        Ok(all)
    }

    #[cold]
    unsafe fn read_long(
        &mut self,
        env: sys::napi_env,
        v: Js,
        off: usize,
        strict: bool,
        max: usize,
    ) -> Result<&mut [u8], Unread> {
        let mut len = 0usize;
        if sys::napi_get_value_string_utf8(env, v, null_mut(), 0, &mut len) != sys::Status::napi_ok
        {
            return Err(Unread::NotString);
        }
        if len > max {
            return Err(Unread::TooLong(len));
        }
        self.heap = vec![0; off + len + 1];
        let mut got = 0usize;
        let out = self.heap[off..].as_mut_ptr().cast();
        if sys::napi_get_value_string_utf8(env, v, out, len + 1, &mut got) != sys::Status::napi_ok
            || got != len
        {
            return Err(Unread::NotString);
        }
        self.heap.truncate(off + got);
        if strict && maybe_replaced(&self.heap[off..]) && !well_formed(env, v) {
            return Err(Unread::LoneSurrogate);
        }
        Ok(&mut self.heap)
    }
}

/// Whether UTF-8 `bytes` may hold a U+FFFD that V8 wrote for a lone surrogate (it holds one
/// at all). ASCII, by far the common case, is answered a word at a time.
#[inline(always)]
fn maybe_replaced(bytes: &[u8]) -> bool {
    !is_ascii(bytes) && bytes.windows(3).any(|w| w == "\u{FFFD}".as_bytes())
}

/// Whether the JS string `v` is well-formed UTF-16 (no lone surrogate). Reads it as UTF-16;
/// only called for the rare string whose UTF-8 form holds a U+FFFD.
#[cold]
unsafe fn well_formed(env: sys::napi_env, v: Js) -> bool {
    let mut len = 0usize;
    if sys::napi_get_value_string_utf16(env, v, null_mut(), 0, &mut len) != sys::Status::napi_ok {
        return false;
    }
    let mut units = vec![0u16; len + 1];
    let mut got = 0usize;
    if sys::napi_get_value_string_utf16(env, v, units.as_mut_ptr(), len + 1, &mut got)
        != sys::Status::napi_ok
        || got != len
    {
        return false;
    }
    char::decode_utf16(units[..len].iter().copied()).all(|c| c.is_ok())
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

    /// Reads the JS string `v` as a key of namespace `ns`; refuses what is not a string or
    /// not well-formed UTF-16.
    #[inline(always)]
    pub(crate) unsafe fn read(
        &mut self,
        env: sys::napi_env,
        v: Js,
        ns: Ns,
    ) -> Result<StoredKey<'_>, Unread> {
        let bytes = self
            .0
            .read_at(env, v, StoredKey::PREFIX, true, usize::MAX)?;
        // `StoredKey::new` refuses only a buffer shorter than the prefix, which `read_at`
        // never returns.
        StoredKey::new(ns, bytes).ok_or(Unread::NotString)
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
/// Invalid UTF-8 becomes U+FFFD. Throws a `RangeError` (and returns null) when V8 cannot make
/// the string: past its length limit (2^29 - 24 UTF-16 units in Node 20), or out of memory.
#[inline(always)]
pub(crate) unsafe fn string(env: sys::napi_env, bytes: &[u8]) -> Js {
    let mut out = null_mut();
    let status = if is_ascii(bytes) {
        sys::napi_create_string_latin1(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out)
    } else {
        sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out)
    };
    if status != sys::Status::napi_ok || out.is_null() {
        return string_failed(env, bytes.len());
    }
    out
}

/// Replaces whatever V8 left pending after a string it could not make with one `RangeError`
/// that says what to do.
#[cold]
#[inline(never)]
unsafe fn string_failed(env: sys::napi_env, len: usize) -> Js {
    let mut is_pending = false;
    sys::napi_is_exception_pending(env, &mut is_pending);
    if is_pending {
        let mut e = null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut e);
    }
    throw(
        env,
        Kind::Range,
        &format!(
            "TinyKV: a value of {len} bytes is too long for a JS string \
             (V8's limit is 2^29 - 24 characters); read it with getBuffer"
        ),
    )
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
