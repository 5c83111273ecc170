//! The entry layout: what one table slot points to. An entry is one allocation: a 16-byte
//! header (access stamp, key length and LFU counter, value length), the stored key (see
//! `key`), then the value; an entry with a TTL has its 8-byte expiry in front of the header.
//! Invariant: an `Entry` owns its allocation like a `Box`; shared access changes only the
//! header's atomics, everything else goes through `&mut Entry`.

use super::lfu::{draw_from, lfu_decayed, lfu_incr, LFU_INIT};
use super::slab;
pub use super::slab::alloc_size;
use super::value::ValueRef;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The fixed part of an entry's allocation. The stored key and the value follow it in the same
/// allocation, so a lookup that found the slot touches one more place for everything else.
#[repr(C)]
struct Header {
    /// The access stamp of the last access (see [`STAMP_SEQ_BITS`]): distinct and increasing
    /// store-wide, so recency is a total order, and its high bits are the access time.
    /// Atomic so reads can update it under a shared lock.
    access: AtomicU64,
    /// Bytes of the stored key (low 24 bits, namespace prefix included; fixed for the entry's
    /// life) and the LFU counter (high 8 bits). Atomic for the counter.
    key_lfu: AtomicU32,
    /// Bytes of the value, or [`INT`] for an integer held in 8 bytes (the low 31 bits), and
    /// [`HAS_EXPIRY`]. Changed only through `&mut Entry`.
    value_len: u32,
}

/// Set in `value_len` when the entry has a TTL: its absolute expiry in clock ms, a `u64`,
/// is the [`EXPIRY_WORD`] bytes in front of the header. An entry without a TTL has no such
/// word (most cached data), which keeps a short key and a 100-byte value in two cache lines.
const HAS_EXPIRY: u32 = 1 << 31;

/// The bits of `value_len` that give the value's length (or [`INT`]).
const VALUE_LEN_MASK: u32 = HAS_EXPIRY - 1;

/// Bytes in front of the header of an entry with a TTL, holding its expiry.
pub const EXPIRY_WORD: usize = 8;

/// Bytes in front of the header of an entry expiring at `expires_at` (0 = no TTL).
#[inline]
const fn lead_for(expires_at: u64) -> usize {
    if expires_at != 0 {
        EXPIRY_WORD
    } else {
        0
    }
}

/// An access stamp is `(clock ms << STAMP_SEQ_BITS) + n`: the store issues them in increasing
/// order from one counter whose floor is raised to the clock as it moves (see
/// `Shared::bump`), so a stamp says both which access came later and, to the cached clock's
/// resolution, when it happened. Clock ms stay below 2^42 (year 2109), so stamps stay below
/// 2^63; 2^21 stamps per floor raise before the time part runs ahead of the clock.
pub(crate) const STAMP_SEQ_BITS: u32 = 21;

/// Bits of `key_lfu` holding the key length.
const KEY_LEN_MASK: u32 = (1 << 24) - 1;

/// Longest stored key (namespace prefix included) an entry can hold.
pub(crate) const MAX_STORED_KEY: usize = KEY_LEN_MASK as usize;

/// Bytes of the header in front of the stored key in every entry allocation (an entry with a
/// TTL has [`EXPIRY_WORD`] more in front of that).
pub const ENTRY_HEADER: usize = std::mem::size_of::<Header>();

/// `value_len` of an integer value.
const INT: u32 = VALUE_LEN_MASK;

/// Bytes an integer value occupies after the key.
const INT_SPACE: usize = 8;

/// Longest value an entry can hold (its length is 31 bits below [`INT`]: 2 GiB less 2 bytes).
pub(crate) const MAX_PART_LEN: usize = (INT - 1) as usize;

/// Bytes a value occupies after the key.
#[inline]
fn value_space(v: ValueRef<'_>) -> usize {
    match v {
        ValueRef::Bytes(b) => b.len(),
        ValueRef::Int(_) => INT_SPACE,
    }
}

/// One entry, owning one allocation: the expiry word if it has a TTL, then [`Header`], stored
/// key, value bytes. The pointer is to the header. The map slot holds
/// just this pointer, so an entry costs one allocation plus an 8-byte slot. It
/// behaves as a `Box`: dropped with its slot, read by many under the shard's read lock (only
/// the atomics change then), and changed otherwise only through `&mut`.
///
/// On x86-64 the pointer's unused top bits carry a hash tag once the entry is in a table (see
/// [`Entry::set_hash_tag`]), so a growing table can rehash it without reading the entry.
pub(crate) struct Entry(NonNull<Header>);

/// Address bits of an entry pointer: user-space addresses on x86-64 Linux fit in 47 bits
/// (48 leaves room to spare); the bits above hold the hash tag.
const ADDR_MASK: usize = (1 << 48) - 1;
/// Set in a tagged pointer.
const TAGGED: usize = 1 << 63;
/// Low hash bits a tag keeps: enough to place an entry in a table of up to 2^15 buckets.
pub(crate) const TAG_HASH_BITS: u32 = 15;

// SAFETY: `Entry` owns its allocation like a `Box`; shared access reads plain fields and uses
// atomics, and every other change goes through `&mut Entry`.
unsafe impl Send for Entry {}
// SAFETY: as above.
unsafe impl Sync for Entry {}

impl Entry {
    /// A new entry for stored key `key` (see `key::make_key`) holding `value`, accessed at
    /// `stamp`. `key` is at most [`MAX_STORED_KEY`] bytes (the store's key limit ensures it).
    pub(crate) fn new(key: &[u8], value: ValueRef<'_>, expires_at: u64, stamp: u64) -> Self {
        debug_assert!(key.len() <= MAX_STORED_KEY);
        let space = value_space(value);
        let lead = lead_for(expires_at);
        // SAFETY: `allocate` returns an 8-aligned, non-null block of the size asked for; the
        // expiry word, header, key and value are written inside it before the entry is used.
        unsafe {
            let block = slab::allocate(lead + ENTRY_HEADER + key.len() + space);
            let p = block.add(lead) as *mut Header;
            p.write(Header {
                access: AtomicU64::new(stamp),
                key_lfu: AtomicU32::new(key_lfu(key.len(), LFU_INIT)),
                value_len: if lead == 0 { 0 } else { HAS_EXPIRY },
            });
            if lead != 0 {
                (block as *mut u64).write(expires_at);
            }
            let data = (p as *mut u8).add(ENTRY_HEADER);
            std::ptr::copy_nonoverlapping(key.as_ptr(), data, key.len());
            let mut e = Entry(NonNull::new_unchecked(p));
            e.write_value(value);
            e
        }
    }

    /// The allocation's address, without the tag. An untagged pointer is returned as is (a
    /// user-space address never has bit 63 set), so platforms with wider addresses or their
    /// own pointer tags are left alone.
    #[inline(always)]
    fn raw(&self) -> *mut Header {
        self.0.as_ptr().map_addr(|a| {
            let tag_bits = (((a as isize) >> 63) as usize) & !ADDR_MASK;
            a & !tag_bits
        })
    }

    #[inline]
    fn header(&self) -> &Header {
        // SAFETY: the pointer is valid and initialized for the entry's whole life.
        unsafe { &*self.raw() }
    }

    #[inline]
    fn data(&self) -> *mut u8 {
        // SAFETY: the key and value follow the header inside the same allocation.
        unsafe { (self.raw() as *mut u8).add(ENTRY_HEADER) }
    }

    /// Records the low [`TAG_HASH_BITS`] of the entry's hash in the pointer's top bits
    /// (x86-64 only; elsewhere, or for an address that uses those bits, nothing changes).
    #[inline]
    pub(crate) fn set_hash_tag(&mut self, hash: u64) {
        if !cfg!(target_arch = "x86_64") || self.raw().addr() & !ADDR_MASK != 0 {
            return;
        }
        let tag = TAGGED | ((hash as usize & ((1 << TAG_HASH_BITS) - 1)) << 48);
        let tagged = self.raw().map_addr(|a| a | tag);
        // SAFETY: the address part is the entry's non-null allocation.
        self.0 = unsafe { NonNull::new_unchecked(tagged) };
    }

    /// Could this entry's hash be `hash`? False only when its tag says otherwise: a lookup
    /// asks this of a slot whose control byte matched before reading the entry, so a match of
    /// the control byte's 7 bits alone (1 in 128 per full slot) costs no cache miss.
    #[inline(always)]
    pub(crate) fn may_hash_to(&self, hash: u64) -> bool {
        self.hash_tag()
            .is_none_or(|t| t == hash & ((1 << TAG_HASH_BITS) - 1))
    }

    /// The hash bits recorded by [`Entry::set_hash_tag`], if any.
    #[inline]
    pub(crate) fn hash_tag(&self) -> Option<u64> {
        let a = self.0.as_ptr().addr();
        (a & TAGGED != 0).then_some(((a >> 48) & ((1 << TAG_HASH_BITS) - 1)) as u64)
    }

    /// Bytes of the stored key.
    #[inline]
    fn key_len(&self) -> usize {
        (self.header().key_lfu.load(Ordering::Relaxed) & KEY_LEN_MASK) as usize
    }

    /// Bytes after the key: the value's length, or 8 for an integer.
    #[inline]
    fn space(&self) -> usize {
        match self.header().value_len & VALUE_LEN_MASK {
            INT => INT_SPACE,
            n => n as usize,
        }
    }

    /// Bytes in front of the header: the expiry word, if the entry has one.
    #[inline]
    fn lead(&self) -> usize {
        if self.header().value_len & HAS_EXPIRY != 0 {
            EXPIRY_WORD
        } else {
            0
        }
    }

    /// Writes `value` into the value area (keeping the [`HAS_EXPIRY`] bit).
    ///
    /// # Safety
    /// The value area must be exactly `value_space(value)` bytes.
    #[inline]
    unsafe fn write_value(&mut self, value: ValueRef<'_>) {
        let at = self.data().add(self.key_len());
        let len = match value {
            ValueRef::Bytes(b) => {
                std::ptr::copy_nonoverlapping(b.as_ptr(), at, b.len());
                b.len() as u32
            }
            ValueRef::Int(n) => {
                at.cast::<[u8; INT_SPACE]>()
                    .write_unaligned(n.to_le_bytes());
                INT
            }
        };
        let h = &mut *self.raw();
        h.value_len = len | (h.value_len & HAS_EXPIRY);
    }

    /// The stored key: namespace prefix and key bytes.
    #[inline]
    pub(crate) fn key(&self) -> &[u8] {
        // SAFETY: `key_len` initialized bytes follow the header.
        unsafe { std::slice::from_raw_parts(self.data(), self.key_len()) }
    }

    /// Is this entry's stored key `key`? Every lookup asks this of each candidate slot. Keys
    /// of 8 to 16 bytes (most keys with their prefix) compare as two overlapping 8-byte words
    /// instead of through a `memcmp` call.
    #[inline(always)]
    pub(crate) fn key_is(&self, key: &[u8]) -> bool {
        let n = self.key_len();
        if n != key.len() {
            return false;
        }
        if (8..=16).contains(&n) {
            // SAFETY: both sides hold `n` >= 8 readable bytes, so words at 0 and n - 8 are in
            // bounds; unaligned reads are allowed by `read_unaligned`.
            unsafe {
                let (a, b) = (self.data(), key.as_ptr());
                let word = |p: *const u8, at: usize| p.add(at).cast::<u64>().read_unaligned();
                return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
            }
        }
        self.key() == key
    }

    /// The value, borrowed.
    #[inline]
    pub(crate) fn value(&self) -> ValueRef<'_> {
        let h = self.header();
        // SAFETY: the value area follows the key and holds `space()` initialized bytes.
        unsafe {
            let at = self.data().add(self.key_len());
            match h.value_len & VALUE_LEN_MASK {
                INT => ValueRef::Int(i64::from_le_bytes(
                    at.cast::<[u8; INT_SPACE]>().read_unaligned(),
                )),
                n => ValueRef::Bytes(std::slice::from_raw_parts(at, n as usize)),
            }
        }
    }

    /// True when the value is held as a 64-bit integer.
    #[inline]
    pub(crate) fn is_int(&self) -> bool {
        self.header().value_len & VALUE_LEN_MASK == INT
    }

    /// Replaces the value, keeping the expiry: in place when it needs the same number of
    /// bytes (an INCR, or an overwrite of equal length), else by moving to a new allocation
    /// that keeps the key, expiry and access history.
    pub(crate) fn set_value(&mut self, value: ValueRef<'_>) {
        self.rewrite(value, self.expires_at(), None);
    }

    /// Sets the absolute expiry (0 = none). An entry that gains or loses its TTL moves to an
    /// allocation with or without the expiry word, so its [`Entry::size`] changes by
    /// [`EXPIRY_WORD`]: callers account for it (see [`entry_size`]).
    pub(crate) fn set_expires_at(&mut self, at: u64) {
        if lead_for(at) == self.lead() {
            // SAFETY: the entry has the word exactly when `at` needs one.
            unsafe { self.write_expiry(at) };
            return;
        }
        let next = Entry::new(self.key(), self.value(), at, 0);
        self.move_to(next);
    }

    /// Sets the value and the expiry (0 = none) together: in place when the layout stays
    /// (the value needs the same bytes and the expiry word stays present or absent), else by
    /// moving to `spare`, if given and of the new layout (an entry of the same key holding
    /// `value`, built ahead of the lookup that found `self`), or else to a new allocation.
    /// The access history and hash tag go along. The size changes as [`entry_size`] says.
    pub(crate) fn rewrite(&mut self, value: ValueRef<'_>, expires_at: u64, spare: Option<Entry>) {
        let lead = lead_for(expires_at);
        let space = value_space(value);
        if space == self.space() && lead == self.lead() {
            // SAFETY: the value area has exactly the bytes the new value needs, and the entry
            // has the expiry word exactly when `expires_at` needs one.
            unsafe {
                self.write_value(value);
                self.write_expiry(expires_at);
            }
            return;
        }
        let next = match spare {
            Some(mut next) if next.space() == space && next.lead() == lead => {
                debug_assert!(next.key() == self.key() && next.value() == value);
                // SAFETY: as checked, `next` has the word exactly when `expires_at` needs one.
                unsafe { next.write_expiry(expires_at) };
                next
            }
            _ => Entry::new(self.key(), value, expires_at, 0),
        };
        self.move_to(next);
    }

    /// Replaces this entry by `next`, an entry of the same key, carrying over the access
    /// stamp, the LFU counter and the hash tag.
    fn move_to(&mut self, mut next: Entry) {
        debug_assert!(next.key() == self.key());
        let (h, n) = (self.header(), next.header());
        n.access
            .store(h.access.load(Ordering::Relaxed), Ordering::Relaxed);
        n.key_lfu
            .store(h.key_lfu.load(Ordering::Relaxed), Ordering::Relaxed);
        // Same key, same hash: the slot and its tag stay right.
        if let Some(low) = self.hash_tag() {
            next.set_hash_tag(low);
        }
        *self = next;
    }

    /// Writes the expiry word; nothing when `at` is 0.
    ///
    /// # Safety
    /// The entry has the expiry word exactly when `at` is not 0.
    #[inline]
    unsafe fn write_expiry(&mut self, at: u64) {
        if at != 0 {
            (self.raw() as *mut u64).sub(1).write(at);
        }
    }

    /// Absolute expiry in clock ms; 0 = none.
    #[inline]
    pub(crate) fn expires_at(&self) -> u64 {
        if self.header().value_len & HAS_EXPIRY == 0 {
            return 0;
        }
        // SAFETY: the flag says the expiry word is in front of the header.
        unsafe { (self.raw() as *const u64).sub(1).read() }
    }

    /// The logical time of the last access.
    #[inline]
    pub(crate) fn stamp(&self) -> u64 {
        self.header().access.load(Ordering::Relaxed)
    }

    /// Bytes charged for this entry: its allocation as the allocator sizes it.
    #[inline]
    pub(crate) fn size(&self) -> u64 {
        alloc_size(self.lead() + ENTRY_HEADER + self.key_len() + self.space()) as u64
    }

    /// Hints the CPU to start loading this entry: the line of its expiry word, if it has one
    /// (the 8 bytes before the header, which are on the previous line when the header starts
    /// one), and the first three lines from the header, which hold the header, a short key and
    /// a value of up to about 100 bytes. Read before the header says which lines are needed,
    /// so an entry without a TTL, or one of two lines, wastes a prefetch.
    #[inline(always)]
    pub(crate) fn prefetch(&self) {
        let p = self.raw() as *const u8;
        prefetch_read(p.wrapping_sub(EXPIRY_WORD));
        prefetch_read(p);
        prefetch_read(p.wrapping_add(64));
        prefetch_read(p.wrapping_add(128));
    }
}

/// Starts loading the cache line at `p` (a hint: any address is allowed).
#[inline(always)]
pub(crate) fn prefetch_read(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl Drop for Entry {
    fn drop(&mut self) {
        let lead = self.lead();
        let n = lead + ENTRY_HEADER + self.key_len() + self.space();
        // SAFETY: allocated in `new` with this same size, `lead` bytes in front of the header,
        // and dropped once.
        unsafe { slab::release((self.raw() as *mut u8).sub(lead), n) }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.value())
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// Bytes charged for an entry with a stored key of `key_len` holding `value` and expiring at
/// `expires_at` (0 = no TTL).
#[inline]
pub(crate) fn entry_size(key_len: usize, value: ValueRef<'_>, expires_at: u64) -> u64 {
    alloc_size(lead_for(expires_at) + ENTRY_HEADER + key_len + value_space(value)) as u64
}

/// `key_lfu` for a stored key of `len` bytes and LFU counter `counter`.
#[inline]
fn key_lfu(len: usize, counter: u8) -> u32 {
    (len as u32 & KEY_LEN_MASK) | (u32::from(counter) << 24)
}

impl Entry {
    /// Last access time in clock ms (the time part of the last access stamp).
    pub(crate) fn last_access_ms(&self) -> u64 {
        self.stamp() >> STAMP_SEQ_BITS
    }

    /// The LFU counter, decayed to `now_ms`.
    pub(crate) fn frequency(&self, now_ms: u64) -> u8 {
        let counter = (self.header().key_lfu.load(Ordering::Relaxed) >> 24) as u8;
        lfu_decayed(counter, self.last_access_ms(), now_ms)
    }

    /// Has this entry expired at `now`? As in Redis, an entry is alive through the
    /// millisecond of its expiry and gone from the next one (`now > at`).
    #[inline]
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        let at = self.expires_at();
        at != 0 && now > at
    }

    /// Records an access with stamp `stamp` at clock time `now_ms`: the stamp (recency and
    /// access time) and the decayed-then-incremented LFU counter. Racing readers may lose an
    /// increment; the counter is a statistic, as in Redis. (They store the same key length.)
    /// Writes nothing when the recorded access time is under `resolution_ms` old and the
    /// counter stays as it is: readers of a store that threads share then do not move the
    /// entry's line between cores on every read (0 = write on every access).
    #[inline]
    pub(crate) fn touch(&self, stamp: u64, now_ms: u64, resolution_ms: u64) {
        let h = self.header();
        // Loads and stores, not swaps: a swap is a locked instruction on x86.
        let last_ms = h.access.load(Ordering::Relaxed) >> STAMP_SEQ_BITS;
        let kl = h.key_lfu.load(Ordering::Relaxed);
        let old = (kl >> 24) as u8;
        let counter = lfu_incr(lfu_decayed(old, last_ms, now_ms), draw_from(stamp));
        if counter == old && now_ms.saturating_sub(last_ms) < resolution_ms {
            return;
        }
        h.access.store(stamp, Ordering::Relaxed);
        h.key_lfu.store(
            key_lfu((kl & KEY_LEN_MASK) as usize, counter),
            Ordering::Relaxed,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::key::{key_ns, make_key, Ns};
    use crate::store::lfu::LFU_DECAY_MS;

    #[test]
    fn headers_keep_their_sizes() {
        assert_eq!(ENTRY_HEADER, 16, "stamp, key length + LFU, value length");
        assert_eq!(
            EXPIRY_WORD, 8,
            "in front of the header of an entry with a TTL"
        );
    }

    #[test]
    fn entries_hold_key_and_value_in_one_allocation() {
        let key = make_key(Ns(2), b"user:1");
        let mut e = Entry::new(&key, ValueRef::Bytes(b"hello"), 7, 1);
        assert_eq!(e.key(), &key[..]);
        assert_eq!(e.value(), ValueRef::Bytes(b"hello"));
        assert_eq!(
            e.size(),
            alloc_size(EXPIRY_WORD + ENTRY_HEADER + 2 + 6 + 5) as u64
        );
        e.set_value(ValueRef::Bytes(b"world"));
        assert_eq!(e.value(), ValueRef::Bytes(b"world"));
        e.set_value(ValueRef::Int(-42));
        assert_eq!((e.value(), e.is_int()), (ValueRef::Int(-42), true));
        e.set_value(ValueRef::Int(i64::MAX));
        assert_eq!(e.value(), ValueRef::Int(i64::MAX));
        let long = vec![b'x'; 1000];
        e.set_value(ValueRef::Bytes(&long));
        assert_eq!(e.value(), ValueRef::Bytes(&long[..]));
        assert_eq!((e.key(), e.expires_at(), e.stamp()), (&key[..], 7, 1));
        e.set_value(ValueRef::Bytes(b""));
        assert_eq!(e.value(), ValueRef::Bytes(b""));
        e.set_expires_at(0);
        assert!(!e.is_expired(u64::MAX));
    }

    #[test]
    fn the_expiry_word_comes_and_goes_with_the_ttl() {
        let key = make_key(Ns(1), b"session:42");
        let plain = |v: ValueRef<'_>| entry_size(key.len(), v, 0);
        let timed = |v: ValueRef<'_>| entry_size(key.len(), v, 1);
        // Exactly the word with the slab's 8-byte size classes (Unix); elsewhere entries are
        // malloc chunks, rounded to 16 bytes.
        #[cfg(unix)]
        assert_eq!(
            timed(ValueRef::Int(0)) - plain(ValueRef::Int(0)),
            EXPIRY_WORD as u64
        );
        #[cfg(not(unix))]
        assert!(timed(ValueRef::Int(0)) - plain(ValueRef::Int(0)) >= EXPIRY_WORD as u64);
        let at = |ms: u64| ms << STAMP_SEQ_BITS;
        let mut e = Entry::new(&key, ValueRef::Int(-3), 0, at(5));
        e.touch(at(6) + 1, 6, 0);
        let (stamp, lfu) = (e.stamp(), e.frequency(6));
        assert_eq!((e.expires_at(), e.size()), (0, plain(ValueRef::Int(0))));
        // Gaining a TTL moves the entry into an allocation with the word in front.
        e.set_expires_at(9_000);
        assert_eq!((e.expires_at(), e.is_int()), (9_000, true));
        assert_eq!((e.value(), e.key()), (ValueRef::Int(-3), &key[..]));
        assert_eq!(e.size(), timed(ValueRef::Int(0)));
        assert_eq!(
            (e.stamp(), e.frequency(6)),
            (stamp, lfu),
            "access history moves too"
        );
        // Changing it writes in place; values of every kind keep it.
        e.set_expires_at(9_500);
        e.set_value(ValueRef::Int(i64::MIN));
        assert_eq!(
            (e.value(), e.expires_at()),
            (ValueRef::Int(i64::MIN), 9_500)
        );
        e.set_value(ValueRef::Bytes(&[b'x'; 200]));
        assert_eq!((e.expires_at(), e.is_int()), (9_500, false));
        assert_eq!(e.size(), timed(ValueRef::Bytes(&[0; 200])));
        // Losing it moves back to an allocation without the word.
        e.set_expires_at(0);
        assert_eq!(
            (e.expires_at(), e.value()),
            (0, ValueRef::Bytes(&[b'x'; 200][..]))
        );
        assert_eq!(e.size(), plain(ValueRef::Bytes(&[0; 200])));
        // A rewrite sets both; a spare of the wrong layout is dropped, one of the right
        // layout is used.
        e.rewrite(
            ValueRef::Bytes(b"v"),
            7_000,
            Some(Entry::new(&key, ValueRef::Bytes(b"v"), 0, 1)),
        );
        assert_eq!(
            (e.value(), e.expires_at()),
            (ValueRef::Bytes(&b"v"[..]), 7_000)
        );
        let spare = Entry::new(&key, ValueRef::Bytes(b"wide"), 1, 1);
        let spare_at = spare.raw();
        e.rewrite(ValueRef::Bytes(b"wide"), 8_000, Some(spare));
        assert_eq!(
            (e.value(), e.expires_at()),
            (ValueRef::Bytes(&b"wide"[..]), 8_000)
        );
        assert_eq!(
            (e.raw(), e.stamp()),
            (spare_at, stamp),
            "moved into the spare"
        );
        assert!(e.is_expired(8_001) && !e.is_expired(8_000));
    }

    #[test]
    fn a_touch_records_the_stamp_and_counter_and_keeps_the_key() {
        let key = make_key(Ns(65_535), "k".repeat(300).as_bytes());
        let at = |ms: u64| ms << STAMP_SEQ_BITS;
        let e = Entry::new(&key, ValueRef::Int(1), 0, at(1_000));
        assert_eq!((e.last_access_ms(), e.frequency(1_000)), (1_000, LFU_INIT));
        e.touch(at(2_000) + 5, 2_000, 0);
        assert_eq!(e.stamp(), at(2_000) + 5);
        assert_eq!(e.last_access_ms(), 2_000);
        assert_eq!(
            e.frequency(2_000),
            LFU_INIT + 1,
            "certain growth from the initial value"
        );
        assert_eq!(
            e.frequency(2_000 + 2 * LFU_DECAY_MS),
            LFU_INIT - 1,
            "two idle minutes"
        );
        assert_eq!(e.key(), &key[..], "the counter lives beside the key length");
        assert_eq!(key_ns(e.key()), Ns(65_535));
        assert_eq!(e.value(), ValueRef::Int(1));
    }

    #[test]
    fn a_touch_with_a_resolution_skips_only_recent_unchanged_accesses() {
        let at = |ms: u64| ms << STAMP_SEQ_BITS;
        let key = make_key(Ns(0), b"k");
        let e = Entry::new(&key, ValueRef::Int(1), 0, at(1_000));
        // The first access from the initial counter always grows it, so it is written.
        e.touch(at(1_010) + 1, 1_010, 1_000);
        assert_eq!(
            (e.stamp(), e.frequency(1_010)),
            (at(1_010) + 1, LFU_INIT + 1)
        );
        // Counter 6 grows with probability 1/11: a stamp at `ms` whose draw takes `counter` to
        // `to`, for draws that leave it and one that grows it.
        let stamp = |ms: u64, counter: u8, to: u8| {
            (at(ms) + 2..)
                .find(|&st| lfu_incr(counter, draw_from(st)) == to)
                .unwrap()
        };
        let stays = stamp(1_500, LFU_INIT + 1, LFU_INIT + 1);
        e.touch(stays, 1_500, 1_000);
        assert_eq!(
            e.stamp(),
            at(1_010) + 1,
            "490 ms old, counter unchanged: not written"
        );
        e.touch(stays, 1_500, 0);
        assert_eq!(e.stamp(), stays, "a resolution of 0 writes every access");
        let grows = stamp(1_600, LFU_INIT + 1, LFU_INIT + 2);
        e.touch(grows, 1_600, 1_000);
        assert_eq!(
            (e.stamp(), e.frequency(1_600)),
            (grows, LFU_INIT + 2),
            "a counter that grows is written, stamp with it"
        );
        let late = stamp(2_600, LFU_INIT + 2, LFU_INIT + 2);
        e.touch(late, 2_600, 1_000);
        assert_eq!(e.stamp(), late, "1000 ms old: written");
        assert_eq!(e.key(), &key[..]);
    }

    #[test]
    fn key_is_compares_whole_keys_of_every_length() {
        for len in 0..40 {
            let name: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let key = make_key(Ns(1), name.as_bytes());
            let e = Entry::new(&key, ValueRef::Int(0), 0, 1);
            assert!(e.key_is(&key), "len {len}");
            for at in 0..key.len() {
                let mut other = key.to_vec();
                other[at] ^= 1;
                assert!(!e.key_is(&other), "len {len}, byte {at} differs");
            }
            assert!(!e.key_is(&key[..key.len() - 1]), "len {len}, shorter");
            let mut longer = key.to_vec();
            longer.push(b'x');
            assert!(!e.key_is(&longer), "len {len}, longer");
        }
    }

    #[test]
    fn a_hash_tag_rides_on_the_pointer_and_survives_a_move() {
        let key = make_key(Ns(3), b"tagged");
        let mut e = Entry::new(&key, ValueRef::Bytes(b"v"), 9, 1);
        assert_eq!(e.hash_tag(), None);
        e.set_hash_tag(0xDEAD_BEEF_1234_5678);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(e.hash_tag(), Some(0x5678 & 0x7FFF));
        }
        assert_eq!((e.key(), e.value()), (&key[..], ValueRef::Bytes(b"v")));
        e.set_value(ValueRef::Bytes(&[7u8; 300]));
        e.set_expires_at(11);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(e.hash_tag(), Some(0x5678 & 0x7FFF), "kept across the move");
        }
        assert_eq!(e.value(), ValueRef::Bytes(&[7u8; 300]));
        assert_eq!((e.key(), e.expires_at()), (&key[..], 11));
    }
}
