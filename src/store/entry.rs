//! What one map slot holds, and how big we say it is. Keys are stored as one boxed byte string:
//! the namespace id (4 bytes, little endian) followed by the key's UTF-8 bytes, so a lookup is
//! one hash of one contiguous buffer and a namespace costs nothing per entry.

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

/// Longest stored key (namespace prefix included) built on the stack.
const INLINE_KEY: usize = 124;

/// A lookup key in the stored layout, on the stack for the common short key. Two plain
/// copies into a fixed array: cheaper on the hot path than a growable small vector.
pub(crate) enum KeyBuf {
    /// Short keys: the bytes and their length.
    Inline([u8; INLINE_KEY], usize),
    /// Keys too long for the stack.
    Heap(Vec<u8>),
}

impl std::ops::Deref for KeyBuf {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            KeyBuf::Inline(buf, len) => &buf[..*len],
            KeyBuf::Heap(v) => v,
        }
    }
}

/// Encode `(ns, key)` into the stored key layout.
#[inline]
pub(crate) fn make_key(ns: Ns, key: &str) -> KeyBuf {
    let len = NS_PREFIX + key.len();
    if len <= INLINE_KEY {
        let mut buf = [0u8; INLINE_KEY];
        buf[..NS_PREFIX].copy_from_slice(&ns.0.to_le_bytes());
        buf[NS_PREFIX..len].copy_from_slice(key.as_bytes());
        KeyBuf::Inline(buf, len)
    } else {
        let mut v = Vec::with_capacity(len);
        v.extend_from_slice(&ns.0.to_le_bytes());
        v.extend_from_slice(key.as_bytes());
        KeyBuf::Heap(v)
    }
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

/// One entry: the value, its absolute expiry, and what eviction needs to know about its use.
/// With the boxed key this makes a 56-byte map slot.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The value.
    pub(crate) value: Stored,
    /// Absolute expiry in clock ms; 0 means no TTL.
    pub(crate) expires_at: u64,
    /// Logical time of the last access (a store-wide counter, so recency is a total order).
    /// Atomic so reads can update it under a shared lock.
    pub(crate) access: AtomicU64,
    /// Last access time in clock ms (high 56 bits) and the LFU counter (low 8 bits).
    pub(crate) meta: AtomicU64,
}

/// LFU counter of a new entry (Redis's LFU_INIT_VAL), so newcomers are not evicted at once.
pub(crate) const LFU_INIT: u8 = 5;
/// Redis's lfu-log-factor: how fast the counter saturates (255 after about 1M hits).
const LFU_LOG_FACTOR: f64 = 10.0;
/// Redis's lfu-decay-time in ms: the counter drops by one per idle minute.
pub(crate) const LFU_DECAY_MS: u64 = 60_000;

#[inline]
fn pack(now_ms: u64, counter: u8) -> u64 {
    (now_ms << 8) | u64::from(counter)
}

/// The LFU counter after decaying one step per idle `LFU_DECAY_MS`.
#[inline]
pub(crate) fn lfu_decayed(meta: u64, now_ms: u64) -> u8 {
    let (last, counter) = (meta >> 8, meta as u8);
    let periods = now_ms.saturating_sub(last) / LFU_DECAY_MS;
    counter.saturating_sub(periods.min(255) as u8)
}

/// Redis's logarithmic increment: the higher the counter, the less likely it grows.
#[inline]
fn lfu_incr(counter: u8) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT));
    let p = 1.0 / (base * LFU_LOG_FACTOR + 1.0);
    if fast_random() < p {
        counter + 1
    } else {
        counter
    }
}

/// A uniform number in [0, 1) from a per-thread xorshift generator: cheap enough for every read.
fn fast_random() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0) });
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = 0x2545_F491_4F6C_DD1D ^ (s as *const Cell<u64> as u64);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

impl Entry {
    pub(crate) fn new(value: Stored, expires_at: u64, stamp: u64, now_ms: u64) -> Self {
        Self {
            value,
            expires_at,
            access: AtomicU64::new(stamp),
            meta: AtomicU64::new(pack(now_ms, LFU_INIT)),
        }
    }

    /// Last access time in clock ms.
    pub(crate) fn last_access_ms(&self) -> u64 {
        self.meta.load(Ordering::Relaxed) >> 8
    }

    /// The LFU counter, decayed to `now_ms`.
    pub(crate) fn frequency(&self, now_ms: u64) -> u8 {
        lfu_decayed(self.meta.load(Ordering::Relaxed), now_ms)
    }

    /// Has this entry expired at `now`?
    #[inline]
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.expires_at != 0 && self.expires_at <= now
    }

    /// Record an access at logical time `stamp` and clock time `now_ms`: LRU stamp, last
    /// access time, and the decayed-then-incremented LFU counter. Racing readers may lose an
    /// increment; the counter is a statistic, as in Redis.
    #[inline]
    pub(crate) fn touch(&self, stamp: u64, now_ms: u64) {
        self.access.store(stamp, Ordering::Relaxed);
        let meta = self.meta.load(Ordering::Relaxed);
        let counter = lfu_incr(lfu_decayed(meta, now_ms));
        self.meta.store(pack(now_ms, counter), Ordering::Relaxed);
    }
}

/// Bytes the allocator really uses for an allocation of `n` bytes: glibc malloc's chunk size
/// on 64-bit targets, `max(32, round_up(n + 8, 16))`; 0 for an empty box, which allocates
/// nothing. `tests/memory.rs` checks this against `malloc_usable_size`.
#[inline]
pub const fn alloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let chunk = (n + 8 + 15) & !15;
    if chunk < 32 {
        32
    } else {
        chunk
    }
}

/// The map's element type; its size is a table slot.
pub(crate) type Slot = (Box<[u8]>, dashmap::SharedValue<Entry>);

/// Bytes of a hashbrown table with `buckets` buckets: the slots (padded to the control-byte
/// alignment), one control byte per bucket and one trailing SIMD group.
pub(crate) const fn table_size(buckets: usize) -> usize {
    let data = (buckets * std::mem::size_of::<Slot>() + 15) & !15;
    data + buckets + 16
}

/// Bytes charged for an entry with a stored key of `key_len` and a value owning `value_len`
/// heap bytes: the two allocations as the allocator sizes them. Its slot is charged with the
/// table (see `Shared::table_bytes`).
#[inline]
pub(crate) fn entry_size(key_len: usize, value_len: usize) -> u64 {
    (alloc_size(key_len) + alloc_size(value_len)) as u64
}

/// Bytes a lone entry would add to a store whose table has room: its allocations plus one
/// slot at full load. For docs and rough sizing only; the store charges table growth exactly.
pub const ENTRY_OVERHEAD: usize = (std::mem::size_of::<Slot>() + 1) * 8 / 7;

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
    fn alloc_size_follows_glibc_chunks() {
        assert_eq!(alloc_size(0), 0);
        assert_eq!(alloc_size(1), 32);
        assert_eq!(alloc_size(24), 32);
        assert_eq!(alloc_size(25), 48);
        assert_eq!(alloc_size(100), 112);
        assert_eq!(
            std::mem::size_of::<Slot>(),
            56,
            "key box 16 + value 16 + expiry, stamp, meta 24"
        );
    }

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        let mut c = LFU_INIT;
        for _ in 0..1_000 {
            c = lfu_incr(c);
        }
        assert!(c > LFU_INIT + 5 && c < 60, "1000 hits gave {c}");
        let meta = pack(0, 20);
        assert_eq!(lfu_decayed(meta, LFU_DECAY_MS - 1), 20);
        assert_eq!(lfu_decayed(meta, 3 * LFU_DECAY_MS), 17);
        assert_eq!(lfu_decayed(meta, 1_000 * LFU_DECAY_MS), 0);
    }

    #[test]
    fn key_layout_round_trips() {
        let k = make_key(Ns(7), "user:1");
        assert_eq!(key_ns(&k), Ns(7));
        assert_eq!(key_name(&k), "user:1");
        let long = "x".repeat(500);
        let k = make_key(Ns(3), &long);
        assert!(matches!(k, KeyBuf::Heap(_)));
        assert_eq!((key_ns(&k), key_name(&k)), (Ns(3), long.as_str()));
        let edge = "y".repeat(INLINE_KEY - NS_PREFIX);
        assert_eq!(key_name(&make_key(Ns(1), &edge)), edge);
    }
}
