//! Reading JS strings into stack buffers ([`StrBuf`], [`KeyArg`]) exactly, and the small
//! byte helpers around them. See `raw/mod.rs`, "Strings", for the whole-read rule.
use super::{Env, Js};
use crate::store::{Ns, StoredKey};
use napi::sys;
use std::mem::MaybeUninit;
use std::ptr::null_mut;

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
    pub(crate) fn read(&mut self, env: Env, v: Js) -> Option<&str> {
        self.read_checked(env, v, false, usize::MAX).ok()
    }

    /// Reads a value string of at most `max` UTF-8 bytes; lone surrogates become U+FFFD.
    #[inline(always)]
    pub(crate) fn read_value(&mut self, env: Env, v: Js, max: usize) -> Result<&str, Unread> {
        self.read_checked(env, v, false, max)
    }

    /// Reads a key, namespace name or pattern: a string that must be well-formed UTF-16, so
    /// that two different JS strings never read as the same bytes.
    #[inline(always)]
    pub(crate) fn read_name(&mut self, env: Env, v: Js) -> Result<&str, Unread> {
        self.read_checked(env, v, true, usize::MAX)
    }

    #[inline(always)]
    fn read_checked(&mut self, env: Env, v: Js, strict: bool, max: usize) -> Result<&str, Unread> {
        let bytes = self.read_at(env, v, 0, strict, max)?;
        // SAFETY: V8 writes valid UTF-8 (lone surrogates become U+FFFD), and `read_at` returns
        // only whole strings, never one cut inside a character.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// Reads the JS string `v` as UTF-8 bytes `off` bytes into the buffer, and returns those
    /// `off` bytes (zeroed, for the caller to fill) followed by the string's. With `strict`,
    /// a string with a lone surrogate is refused; a string of more than `max` bytes is
    /// refused before it is copied.
    #[inline(always)]
    fn read_at(
        &mut self,
        env: Env,
        v: Js,
        off: usize,
        strict: bool,
        max: usize,
    ) -> Result<&mut [u8], Unread> {
        let mut len = 0usize;
        let room = N - off;
        // SAFETY: the buffer has `room` bytes from `off`, and V8 writes at most `room`
        // (string and NUL) into them.
        let status = unsafe {
            let out = self.stack.as_mut_ptr().add(off).cast();
            sys::napi_get_value_string_utf8(env.raw, v.raw, out, room, &mut len)
        };
        if status != sys::Status::napi_ok {
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
        // SAFETY: bytes `..off` were just written, and V8 wrote `len` bytes from `off`.
        let all = unsafe {
            std::slice::from_raw_parts_mut(self.stack.as_mut_ptr().cast::<u8>(), off + len)
        };
        if strict && maybe_replaced(&all[off..]) && !well_formed(env, v) {
            return Err(Unread::LoneSurrogate);
        }
        Ok(all)
    }

    #[cold]
    fn read_long(
        &mut self,
        env: Env,
        v: Js,
        off: usize,
        strict: bool,
        max: usize,
    ) -> Result<&mut [u8], Unread> {
        let mut len = 0usize;
        let status =
            unsafe { sys::napi_get_value_string_utf8(env.raw, v.raw, null_mut(), 0, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(Unread::NotString);
        }
        if len > max {
            return Err(Unread::TooLong(len));
        }
        self.heap = vec![0; off + len + 1];
        let mut got = 0usize;
        // SAFETY: the heap buffer has `len + 1` bytes from `off`, and V8 writes at most that.
        let status = unsafe {
            let out = self.heap[off..].as_mut_ptr().cast();
            sys::napi_get_value_string_utf8(env.raw, v.raw, out, len + 1, &mut got)
        };
        if status != sys::Status::napi_ok || got != len {
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
fn well_formed(env: Env, v: Js) -> bool {
    let mut len = 0usize;
    let status =
        unsafe { sys::napi_get_value_string_utf16(env.raw, v.raw, null_mut(), 0, &mut len) };
    if status != sys::Status::napi_ok {
        return false;
    }
    let mut units = vec![0u16; len + 1];
    let mut got = 0usize;
    // SAFETY: `units` has room for `len + 1` code units, and V8 writes at most that.
    let status = unsafe {
        sys::napi_get_value_string_utf16(env.raw, v.raw, units.as_mut_ptr(), len + 1, &mut got)
    };
    status == sys::Status::napi_ok
        && got == len
        && char::decode_utf16(units[..len].iter().copied()).all(|c| c.is_ok())
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
    pub(crate) fn read(&mut self, env: Env, v: Js, ns: Ns) -> Result<StoredKey<'_>, Unread> {
        let bytes = self
            .0
            .read_at(env, v, StoredKey::PREFIX, true, usize::MAX)?;
        // `StoredKey::new` refuses only a buffer shorter than the prefix, which `read_at`
        // never returns.
        StoredKey::new(ns, bytes).ok_or(Unread::NotString)
    }
}

/// A stack buffer for copying a short value out of the store, left uninitialised (a `get`
/// makes one per call, so zeroing it would cost on every read).
pub(crate) struct CopyOut<const N: usize> {
    buf: [MaybeUninit<u8>; N],
    len: usize,
}

impl<const N: usize> CopyOut<N> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        CopyOut {
            buf: [MaybeUninit::uninit(); N],
            len: 0,
        }
    }

    /// Copies `bytes` in (they fit: `bytes.len() <= N`, else nothing is copied); false if
    /// they do not fit.
    #[inline(always)]
    pub(crate) fn fill(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > N {
            return false;
        }
        // SAFETY: `bytes.len() <= N` bytes into a buffer of `N`; the two do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.buf.as_mut_ptr().cast::<u8>(),
                bytes.len(),
            )
        };
        self.len = bytes.len();
        true
    }

    /// The bytes copied in by the last `fill` (none before the first).
    #[inline(always)]
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the first `len` bytes were written by `fill`.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_ascii_matches_std_at_every_length_and_position() {
        for len in 0..40 {
            let mut v = vec![b'a'; len];
            assert_eq!(is_ascii(&v), v.is_ascii());
            for i in 0..len {
                v[i] = 0xC3;
                assert_eq!(is_ascii(&v), v.is_ascii(), "len {len}, high byte at {i}");
                v[i] = b'a';
            }
        }
    }

    #[test]
    fn maybe_replaced_finds_u_fffd_anywhere() {
        assert!(!maybe_replaced(b"plain ascii"));
        assert!(!maybe_replaced("caf\u{e9}".as_bytes()));
        for pad in 0..10 {
            let s = format!("{}\u{FFFD}{}", "a".repeat(pad), "\u{e9}".repeat(pad));
            assert!(maybe_replaced(s.as_bytes()), "{s}");
        }
    }
}
