//! Keys: namespace ids and the stored-key layout, the namespace id (2 bytes, little endian)
//! followed by the key's bytes (any bytes, as in Redis), so a lookup hashes one contiguous
//! buffer; and [`Key`], the one key parameter of the store's one-key methods: a namespace
//! plus bytes, laid out on the stack per call, or a [`StoredKey`] a binding laid out itself.

/// A namespace id. Cheap to copy; names map to ids in the store's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ns(pub(crate) u32);

impl Ns {
    /// The namespace named `default`.
    pub const DEFAULT: Ns = Ns(0);
}

/// Length of the namespace prefix in a stored key (ids are below `MAX_NAMESPACES`, 65,536).
pub(crate) const NS_PREFIX: usize = 2;

/// A key already in the stored layout (namespace prefix, then the key's bytes), built in a
/// caller's buffer: a binding that reads the key from its host straight into
/// `buf[StoredKey::PREFIX..]` hands it to [`crate::Store::get_with`] with no further copy.
#[derive(Debug, Clone, Copy)]
pub struct StoredKey<'a>(&'a [u8]);

impl<'a> StoredKey<'a> {
    /// Bytes a buffer keeps in front of the key for the namespace prefix.
    pub const PREFIX: usize = NS_PREFIX;

    /// Writes `ns`'s prefix over `buf[..PREFIX]`, whose rest is the key's bytes. `None` when
    /// `buf` is shorter than the prefix.
    #[inline(always)]
    pub fn new(ns: Ns, buf: &'a mut [u8]) -> Option<StoredKey<'a>> {
        buf.get_mut(..NS_PREFIX)?.copy_from_slice(&ns_prefix(ns));
        Some(StoredKey(buf))
    }

    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    /// A key already in the stored layout (the addon's `getOrSet` keeps one as its flight's
    /// name).
    pub(crate) fn from_layout(bytes: &'a [u8]) -> StoredKey<'a> {
        StoredKey(bytes)
    }

    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    /// The stored layout: namespace prefix, then the key.
    pub(crate) fn bytes(self) -> &'a [u8] {
        self.0
    }
}

/// Longest stored key (namespace prefix included) built on the stack.
const INLINE_KEY: usize = 124;

/// A lookup key in the stored layout, on the stack for the common short key. Two plain
/// copies into a fixed array: cheaper on the hot path than a growable small vector.
#[derive(Debug)]
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
pub(crate) fn make_key(ns: Ns, key: &[u8]) -> KeyBuf {
    let len = NS_PREFIX + key.len();
    if len <= INLINE_KEY {
        let mut buf = [0u8; INLINE_KEY];
        buf[..NS_PREFIX].copy_from_slice(&ns_prefix(ns));
        buf[NS_PREFIX..len].copy_from_slice(key);
        KeyBuf::Inline(buf, len)
    } else {
        let mut v = Vec::with_capacity(len);
        v.extend_from_slice(&ns_prefix(ns));
        v.extend_from_slice(key);
        KeyBuf::Heap(v)
    }
}

impl KeyBuf {
    /// A copy of a stored key; on the stack when short.
    pub(crate) fn copy_of(stored: &[u8]) -> KeyBuf {
        if stored.len() <= INLINE_KEY {
            let mut buf = [0u8; INLINE_KEY];
            buf[..stored.len()].copy_from_slice(stored);
            KeyBuf::Inline(buf, stored.len())
        } else {
            KeyBuf::Heap(stored.to_vec())
        }
    }
}

/// The prefix of namespace `ns` in a stored key.
#[inline]
pub(crate) fn ns_prefix(ns: Ns) -> [u8; NS_PREFIX] {
    // Ids come from the registry, which hands out fewer than 2^16.
    (ns.0 as u16).to_le_bytes()
}

/// The namespace of a stored key.
pub(crate) fn key_ns(stored: &[u8]) -> Ns {
    let mut id = [0u8; NS_PREFIX];
    id.copy_from_slice(&stored[..NS_PREFIX]);
    Ns(u32::from(u16::from_le_bytes(id)))
}

/// The user-visible part of a stored key: any bytes (the daemon takes binary keys, as Redis
/// does; the addon's keys are UTF-8).
pub(crate) fn key_name(stored: &[u8]) -> &[u8] {
    &stored[NS_PREFIX..]
}

/// The key parameter of the store's one-key methods: `(ns, key)` for a namespace and the key's
/// bytes (laid out on the stack per call, on the heap past 122 bytes), or a [`StoredKey`] the
/// caller already laid out (the addon's hot path reads JS strings straight into that layout).
/// Both forms compile to the same store code; the choice costs nothing at run time.
pub trait Key: Copy {
    /// Calls `f` with the key in the stored layout.
    fn with_layout<R>(self, f: impl FnOnce(&[u8]) -> R) -> R;
}

impl<K: AsRef<[u8]> + ?Sized> Key for (Ns, &K) {
    #[inline(always)]
    fn with_layout<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&make_key(self.0, self.1.as_ref()))
    }
}

impl Key for StoredKey<'_> {
    #[inline(always)]
    fn with_layout<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_layout_round_trips() {
        let k = make_key(Ns(7), b"user:1");
        assert_eq!(key_ns(&k), Ns(7));
        assert_eq!(key_name(&k), b"user:1");
        let long = vec![0xff; 500];
        let k = make_key(Ns(3), &long);
        assert!(matches!(k, KeyBuf::Heap(_)));
        assert_eq!((key_ns(&k), key_name(&k)), (Ns(3), &long[..]));
        let edge = vec![b'y'; INLINE_KEY - NS_PREFIX];
        assert_eq!(key_name(&make_key(Ns(1), &edge)), &edge[..]);
    }

    #[test]
    fn both_key_forms_give_the_same_layout() {
        let mut buf = *b"..user:1";
        let stored = StoredKey::new(Ns(9), &mut buf).unwrap();
        let a = stored.with_layout(<[u8]>::to_vec);
        let b = (Ns(9), "user:1").with_layout(<[u8]>::to_vec);
        assert_eq!((a.as_slice(), key_ns(&a)), (&b[..], Ns(9)));
        assert!(StoredKey::new(Ns(1), &mut [0u8; 1]).is_none());
    }
}
