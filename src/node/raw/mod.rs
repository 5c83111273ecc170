//! The one wrapper around raw N-API: [`Env`] and [`Js`] handles with safe methods for making
//! values and throwing (here), reading values, arrays, properties and calls (`objects.rs`),
//! [`StrBuf`], which reads strings into stack buffers (`strings.rs`), [`Kept`] references that
//! outlive a callback (`kept.rs`), and [`Wake`], which crosses threads into a JS event loop
//! (`wake.rs`); those two add their own soundness notes. Everything else in
//! `src/node/` calls these instead of `napi::sys`.
//!
//! # Why the calls here are sound
//! An N-API call is sound when its `napi_env` is the one of the callback running now on this
//! thread, and its value handles were made in that callback's handle scope. An [`Env`] is made
//! only by [`Env::from_raw`] (unsafe: the callback entry points in `hot.rs` vouch for it) or
//! from napi-rs's `Env`, which napi-rs hands only to callbacks; a [`Js`] only by methods of an
//! `Env`, by [`Env::args`], or from a napi-rs `Unknown` of the same callback. Neither is `Send`
//! or `Sync`, and no code keeps one past the callback that made it (they live in locals), so
//! every handle a caller holds is live and on its own thread. A method that returns
//! `Err(Thrown)` has left a JS exception pending, which the callback then returns to V8.
//!
//! # Strings
//! Reading a string is the one place where a shortcut could change an answer: V8 copies only
//! whole characters into a buffer, so a read that fills a buffer may have stopped short of
//! the string's end by up to one character (4 bytes). A stack read counts as whole only when
//! at least that much room was left over; anything else is read again at its full length.
use napi::sys;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr::null_mut;

mod kept;
mod objects;
mod strings;
mod wake;

pub(crate) use kept::Kept;
pub(crate) use strings::{is_ascii, CopyOut, KeyArg, StrBuf, Unread, STACK_KEY};
pub(crate) use wake::{at_teardown, Deferred, Message, Wake};

/// The JS environment of the callback running now on this thread (see the module docs).
#[derive(Clone, Copy)]
pub(crate) struct Env {
    raw: sys::napi_env,
    /// Not `Send`/`Sync`: an env belongs to its JS thread.
    _thread: PhantomData<*mut ()>,
}

/// A JS value handle from the current callback's handle scope.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Js {
    raw: sys::napi_value,
}

/// A JS exception is pending: the callback must return to V8 without further JS calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Thrown;

/// A JS value, or a pending exception.
pub(crate) type JsResult<T = Js> = Result<T, Thrown>;

/// A value's `typeof`, as N-API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Symbol,
    Object,
    Function,
    BigInt,
    External,
}

impl Type {
    /// The name `typeof` gives, for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Type::Undefined => "undefined",
            Type::Null => "null",
            Type::Boolean => "boolean",
            Type::Number => "number",
            Type::String => "string",
            Type::Symbol => "symbol",
            Type::Object => "object",
            Type::Function => "function",
            Type::BigInt => "bigint",
            Type::External => "external",
        }
    }
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

impl Js {
    /// The handle of a napi-rs `Unknown`, which napi-rs made in the current callback.
    #[inline(always)]
    pub(crate) fn of(u: &napi::Unknown<'_>) -> Js {
        Js {
            raw: napi::JsValue::raw(u),
        }
    }

    /// Wraps a handle N-API made.
    ///
    /// # Safety
    /// `raw` is a live handle made by N-API in the callback running now on this thread.
    #[inline(always)]
    pub(crate) unsafe fn from_raw(raw: sys::napi_value) -> Js {
        Js { raw }
    }

    /// The raw handle, for napi-rs.
    #[inline(always)]
    pub(crate) fn raw(self) -> sys::napi_value {
        self.raw
    }

    /// Hints the CPU to fetch the heap object behind this handle. In Node's V8 a
    /// `napi_value` points at a handle slot holding the object's tagged address; a prefetch
    /// never faults, so if that representation ever changes this only stops helping.
    #[inline(always)]
    pub(crate) fn prefetch(self) {
        #[cfg(target_arch = "x86_64")]
        if !self.raw.is_null() {
            // SAFETY: a live handle points at a live handle slot (module docs); the read is
            // of that slot, and the prefetch itself never faults.
            unsafe {
                let tagged = *(self.raw as *const usize);
                std::arch::x86_64::_mm_prefetch(
                    (tagged & !1) as *const i8,
                    std::arch::x86_64::_MM_HINT_T0,
                );
            }
        }
    }
}

/// The raw value a callback returns for `r`: the value, or null with the exception pending.
#[inline(always)]
pub(crate) fn to_raw(r: JsResult) -> sys::napi_value {
    match r {
        Ok(v) => v.raw,
        Err(Thrown) => null_mut(),
    }
}

/// `Ok(v)` when an N-API call that made `v` succeeded.
#[inline(always)]
fn made(status: sys::napi_status, v: sys::napi_value) -> Option<Js> {
    (status == sys::Status::napi_ok && !v.is_null()).then_some(Js { raw: v })
}

impl Env {
    /// Wraps the env an N-API callback was called with.
    ///
    /// # Safety
    /// `raw` is the env of the callback running now on this thread, and the `Env` is used
    /// only until that callback returns.
    #[inline(always)]
    pub(crate) unsafe fn from_raw(raw: sys::napi_env) -> Env {
        Env {
            raw,
            _thread: PhantomData,
        }
    }

    /// The env of a napi-rs callback (napi-rs makes an `Env` only for a running callback).
    #[inline(always)]
    pub(crate) fn of(env: &napi::Env) -> Env {
        Env {
            raw: env.raw(),
            _thread: PhantomData,
        }
    }

    /// The raw env, for napi-rs and `hot.rs`.
    #[inline(always)]
    pub(crate) fn raw(self) -> sys::napi_env {
        self.raw
    }

    /// Reads up to `N` call arguments (missing ones are `undefined`) and the function's data
    /// pointer.
    ///
    /// # Safety
    /// `info` is the callback info of the callback this env belongs to.
    #[inline(always)]
    pub(crate) unsafe fn args<const N: usize>(
        self,
        info: sys::napi_callback_info,
    ) -> ([Js; N], *mut c_void) {
        let mut argc = N;
        let mut argv = [null_mut(); N];
        let mut data = null_mut();
        // SAFETY: the caller vouches for `info`; argv has room for `argc` handles.
        unsafe {
            sys::napi_get_cb_info(
                self.raw,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                null_mut(),
                &mut data,
            )
        };
        (argv.map(|raw| Js { raw }), data)
    }

    #[inline(always)]
    pub(crate) fn undefined(self) -> Js {
        let mut u = null_mut();
        // SAFETY (this and every call below): a live env and handles (module docs), and
        // out-pointers to locals.
        unsafe { sys::napi_get_undefined(self.raw, &mut u) };
        Js { raw: u }
    }

    #[inline(always)]
    pub(crate) fn boolean(self, b: bool) -> Js {
        let mut u = null_mut();
        unsafe { sys::napi_get_boolean(self.raw, b, &mut u) };
        Js { raw: u }
    }

    #[inline(always)]
    pub(crate) fn number(self, n: f64) -> Js {
        let mut u = null_mut();
        unsafe { sys::napi_create_double(self.raw, n, &mut u) };
        Js { raw: u }
    }

    #[inline(always)]
    pub(crate) fn int64(self, n: i64) -> Js {
        let mut u = null_mut();
        unsafe { sys::napi_create_int64(self.raw, n, &mut u) };
        Js { raw: u }
    }

    /// A JS bigint.
    pub(crate) fn bigint(self, n: i64) -> Js {
        let mut u = null_mut();
        unsafe { sys::napi_create_bigint_int64(self.raw, n, &mut u) };
        Js { raw: u }
    }

    /// A JS string from UTF-8 bytes, taking the one-byte (Latin-1) fast path for ASCII.
    /// Invalid UTF-8 becomes U+FFFD. Throws a `RangeError` when V8 cannot make the string:
    /// past its length limit (2^29 - 24 UTF-16 units in Node 20), or out of memory.
    #[inline(always)]
    pub(crate) fn string(self, bytes: &[u8]) -> JsResult {
        let mut out = null_mut();
        let (ptr, len) = (bytes.as_ptr().cast(), bytes.len() as isize);
        let status = if is_ascii(bytes) {
            unsafe { sys::napi_create_string_latin1(self.raw, ptr, len, &mut out) }
        } else {
            unsafe { sys::napi_create_string_utf8(self.raw, ptr, len, &mut out) }
        };
        made(status, out).ok_or_else(|| self.string_failed(bytes.len()))
    }

    /// Replaces whatever V8 left pending after a string it could not make with one
    /// `RangeError` that says what to do.
    #[cold]
    #[inline(never)]
    fn string_failed(self, len: usize) -> Thrown {
        if self.is_exception_pending() {
            let mut e = null_mut();
            unsafe { sys::napi_get_and_clear_last_exception(self.raw, &mut e) };
        }
        self.throw(
            Kind::Range,
            &format!(
                "TinyKV: a value of {len} bytes is too long for a JS string \
                 (V8's limit is 2^29 - 24 characters); read it with getBuffer"
            ),
        )
    }

    /// A JS string holding the decimal form of `n`.
    #[inline]
    pub(crate) fn decimal_string(self, n: i64) -> Js {
        let mut buf = [0u8; 21];
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
        if n < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        let digits = &buf[i..];
        let mut out = null_mut();
        unsafe {
            sys::napi_create_string_latin1(
                self.raw,
                digits.as_ptr().cast(),
                digits.len() as isize,
                &mut out,
            )
        };
        Js { raw: out }
    }

    /// A new Node `Buffer` holding a copy of `bytes`.
    pub(crate) fn buffer(self, bytes: &[u8]) -> JsResult {
        let mut out = null_mut();
        let mut data = null_mut();
        let status = unsafe {
            sys::napi_create_buffer_copy(
                self.raw,
                bytes.len(),
                bytes.as_ptr().cast(),
                &mut data,
                &mut out,
            )
        };
        made(status, out).ok_or_else(|| {
            self.throw(
                Kind::Range,
                &format!(
                    "TinyKV: could not allocate a Buffer of {} bytes",
                    bytes.len()
                ),
            )
        })
    }

    fn is_exception_pending(self) -> bool {
        let mut is_pending = false;
        unsafe { sys::napi_is_exception_pending(self.raw, &mut is_pending) };
        is_pending
    }

    /// Throws `new <kind>(msg)`, unless an exception is already pending (which then wins).
    #[cold]
    #[inline(never)]
    pub(crate) fn throw(self, kind: Kind, msg: &str) -> Thrown {
        if self.is_exception_pending() {
            return Thrown;
        }
        let c = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
        unsafe {
            match kind {
                Kind::Error => sys::napi_throw_error(self.raw, null_mut(), c.as_ptr()),
                Kind::Type => sys::napi_throw_type_error(self.raw, null_mut(), c.as_ptr()),
                Kind::Range => sys::napi_throw_range_error(self.raw, null_mut(), c.as_ptr()),
            }
        };
        Thrown
    }

    /// Runs `f`, turning a Rust panic into a thrown JS `Error` instead of unwinding into V8,
    /// and returns the raw value the callback gives V8.
    #[inline(always)]
    pub(crate) fn guard(self, f: impl FnOnce() -> JsResult) -> sys::napi_value {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(r) => to_raw(r),
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                self.throw(
                    Kind::Error,
                    &format!("TinyKV internal error (Rust panic): {msg}"),
                );
                null_mut()
            }
        }
    }
}
