//! What one map slot holds, and how big we say it is. Keys are stored as one boxed byte string:
//! the namespace id (4 bytes, little endian) followed by the key's UTF-8 bytes, so a lookup is
//! one hash of one contiguous buffer and a namespace costs nothing per entry.

use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};

/// A namespace id. Cheap to copy; names map to ids in the store's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ns(pub(crate) u32);

impl Ns {
    /// The namespace named `default`.
    pub const DEFAULT: Ns = Ns(0);
}

/// Length of the namespace prefix in a stored key.
pub(crate) const NS_PREFIX: usize = 4;

/// A lookup key built on the stack for the common short key.
pub(crate) type KeyBuf = SmallVec<[u8; 96]>;

/// Encode `(ns, key)` into the stored key layout.
pub(crate) fn make_key(ns: Ns, key: &str) -> KeyBuf {
    let mut buf = KeyBuf::with_capacity(NS_PREFIX + key.len());
    buf.extend_from_slice(&ns.0.to_le_bytes());
    buf.extend_from_slice(key.as_bytes());
    buf
}

/// The namespace of a stored key.
pub(crate) fn key_ns(stored: &[u8]) -> Ns {
    let mut id = [0u8; NS_PREFIX];
    id.copy_from_slice(&stored[..NS_PREFIX]);
    Ns(u32::from_le_bytes(id))
}

/// The user-visible part of a stored key. Keys enter only as `&str`, so this is valid UTF-8.
pub(crate) fn key_name(stored: &[u8]) -> &str {
    std::str::from_utf8(&stored[NS_PREFIX..]).unwrap_or_default()
}

/// An owned value as handed out by reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text or binary bytes.
    Bytes(Vec<u8>),
    /// A 64-bit integer, kept as such so INCR needs no parsing.
    Int(i64),
}

impl Value {
    /// The value as bytes; integers become decimal text.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.clone(),
            Value::Int(n) => n.to_string().into_bytes(),
        }
    }

    /// Length in bytes of the value's byte form.
    pub fn byte_len(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Int(n) => decimal_len(*n),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Bytes(s.into_bytes())
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// A borrowed view of a stored value, for zero-copy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// Text or binary bytes.
    Bytes(&'a [u8]),
    /// A 64-bit integer.
    Int(i64),
}

impl ValueRef<'_> {
    /// Copy into an owned [`Value`].
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::Int(n) => Value::Int(n),
        }
    }
}

/// The stored form of a value: bytes in one exact-size allocation, or an inline integer.
#[derive(Debug)]
pub(crate) enum Stored {
    Bytes(Box<[u8]>),
    Int(i64),
}

impl Stored {
    pub(crate) fn from_value(v: Value) -> Self {
        match v {
            Value::Bytes(b) => Stored::Bytes(b.into_boxed_slice()),
            Value::Int(n) => Stored::Int(n),
        }
    }

    pub(crate) fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Stored::Bytes(b) => ValueRef::Bytes(b),
            Stored::Int(n) => ValueRef::Int(*n),
        }
    }

    /// Heap bytes this value owns (an inline integer owns none).
    pub(crate) fn heap_len(&self) -> usize {
        match self {
            Stored::Bytes(b) => b.len(),
            Stored::Int(_) => 0,
        }
    }
}

/// Heap bytes a value will own once stored.
pub(crate) fn value_heap_len(v: &Value) -> usize {
    match v {
        Value::Bytes(b) => b.len(),
        Value::Int(_) => 0,
    }
}

/// One entry: the value, its absolute expiry, and its last access stamp for LRU.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The value.
    pub(crate) value: Stored,
    /// Absolute expiry in clock ms; 0 means no TTL.
    pub(crate) expires_at: u64,
    /// Logical time of the last access. Atomic so reads can update it under a shared lock.
    pub(crate) access: AtomicU64,
}

impl Entry {
    pub(crate) fn new(value: Stored, expires_at: u64, stamp: u64) -> Self {
        Self {
            value,
            expires_at,
            access: AtomicU64::new(stamp),
        }
    }

    /// Has this entry expired at `now`?
    #[inline]
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.expires_at != 0 && self.expires_at <= now
    }

    /// Record an access at logical time `stamp`.
    #[inline]
    pub(crate) fn touch(&self, stamp: u64) {
        self.access.store(stamp, Ordering::Relaxed);
    }
}

/// Fixed bytes charged per entry on top of key and value bytes: the map slot (key pointer,
/// entry, control byte, amortised over hashbrown's 7/8 load factor) plus the allocator's
/// per-allocation overhead for the key and value boxes. See ARCHITECTURE.md, "Memory accounting".
pub const ENTRY_OVERHEAD: usize = {
    let slot = std::mem::size_of::<(Box<[u8]>, Entry)>() + 1;
    slot * 8 / 7 + 2 * 16
};

/// Bytes charged for an entry with a stored key of `key_len` and a value owning `value_len`.
#[inline]
pub(crate) fn entry_size(key_len: usize, value_len: usize) -> u64 {
    (key_len + value_len + ENTRY_OVERHEAD) as u64
}

/// Number of bytes in the decimal form of `n`.
pub(crate) fn decimal_len(n: i64) -> usize {
    let mut len = if n < 0 { 2 } else { 1 };
    let mut m = n.unsigned_abs();
    while m >= 10 {
        m /= 10;
        len += 1;
    }
    len
}

/// Parse bytes as an i64 the way Redis's `string2ll` does: optional '-', no '+', no spaces,
/// no leading zeros, within range.
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut acc: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let v = i64::from(d - b'0');
        acc = acc.checked_mul(10)?;
        acc = if neg {
            acc.checked_sub(v)?
        } else {
            acc.checked_add(v)?
        };
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_follows_redis() {
        for (input, expected) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-42", Some(-42)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("+1", None),
            (" 1", None),
            ("01", None),
            ("-0", None),
            ("1.5", None),
            ("", None),
            ("abc", None),
        ] {
            assert_eq!(parse_i64(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn decimal_len_matches_to_string() {
        for n in [0, 9, 10, -1, -10, 12345, i64::MAX, i64::MIN] {
            assert_eq!(decimal_len(n), n.to_string().len(), "{n}");
        }
    }

    #[test]
    fn key_layout_round_trips() {
        let k = make_key(Ns(7), "user:1");
        assert_eq!(key_ns(&k), Ns(7));
        assert_eq!(key_name(&k), "user:1");
    }
}
