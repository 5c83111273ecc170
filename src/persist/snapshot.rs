//! The binary snapshot format (`SAVE`, `BGSAVE`, `kv.save`, `tinykv backup`): compact and fast
//! to write and read, checked whole before anything is loaded. `export` writes JSONL instead
//! (`jsonl.rs`); both load through the same [`LoadBatch`].
//!
//! Layout, all integers little endian (`varint` is unsigned LEB128):
//!
//! ```text
//! header   "TINYKVSN"  u32 version (1)  u32 flags (0)  u64 created (epoch ms)
//!          u64 entries  u32 namespaces
//! names    per namespace: varint length, UTF-8 name
//! entries  per entry: u8 tag (bit 0: integer value, bit 1: has expiry), varint namespace
//!          index, varint key length, key, then the value (varint length + bytes, or an i64),
//!          then the expiry (u64 epoch ms) if bit 1 is set
//! trailer  u32 CRC-32 (crc32fast) of every byte before it
//! ```
//!
//! Invariants: a reader refuses a version newer than [`VERSION`] with a message saying so
//! (never misreads it), refuses a file whose checksum does not match before parsing a single
//! entry, and bounds-checks every length (a damaged file is an error, never a panic).

use crate::store::{LoadBatch, LoadEntry, LoadValue, Ns, Store, ValueRef};
use std::borrow::Cow;
use std::collections::HashMap;

/// The first 8 bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"TINYKVSN";
/// The format version this build writes and the newest it reads.
pub const VERSION: u32 = 1;
/// Bytes before the names: magic, version, flags, created, entries, namespaces.
const HEADER: usize = 8 + 4 + 4 + 8 + 8 + 4;
/// Tag bit: the value is an i64.
const TAG_INT: u8 = 1;
/// Tag bit: an expiry follows the value.
const TAG_TTL: u8 = 2;

/// A snapshot being built in memory: namespace names and encoded entries.
#[derive(Debug, Default)]
pub struct Writer {
    /// Namespace names, by the index entries carry.
    names: Vec<String>,
    /// Encoded entries.
    body: Vec<u8>,
    /// How many entries `body` holds.
    entries: u64,
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

impl Writer {
    /// An empty snapshot.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Index of namespace `name`, added on first use.
    pub fn namespace(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as u32
            }
        }
    }

    /// Appends one entry of namespace index `ns` (from [`Writer::namespace`]).
    pub fn push(&mut self, ns: u32, key: &[u8], value: ValueRef<'_>, expires_at_ms: Option<u64>) {
        let out = &mut self.body;
        let mut tag = 0;
        if matches!(value, ValueRef::Int(_)) {
            tag |= TAG_INT;
        }
        if expires_at_ms.is_some() {
            tag |= TAG_TTL;
        }
        out.push(tag);
        put_varint(out, ns as u64);
        put_varint(out, key.len() as u64);
        out.extend_from_slice(key);
        match value {
            ValueRef::Int(n) => out.extend_from_slice(&n.to_le_bytes()),
            ValueRef::Bytes(b) => {
                put_varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
        if let Some(at) = expires_at_ms {
            out.extend_from_slice(&at.to_le_bytes());
        }
        self.entries += 1;
    }

    /// Entries so far.
    pub fn len(&self) -> u64 {
        self.entries
    }

    /// True before the first entry.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The finished file as three parts to write one after another (header and names, the
    /// entries, the checksum), without copying the entries again.
    pub fn finish(self, created_ms: u64) -> Snapshot {
        let mut head = Vec::with_capacity(HEADER + 16 * self.names.len());
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&created_ms.to_le_bytes());
        head.extend_from_slice(&self.entries.to_le_bytes());
        head.extend_from_slice(&(self.names.len() as u32).to_le_bytes());
        for n in &self.names {
            put_varint(&mut head, n.len() as u64);
            head.extend_from_slice(n.as_bytes());
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.update(&self.body);
        Snapshot {
            head,
            body: self.body,
            tail: crc.finalize().to_le_bytes(),
            entries: self.entries,
        }
    }
}

/// A finished snapshot, ready to write.
#[derive(Debug)]
pub struct Snapshot {
    /// Header and namespace names.
    head: Vec<u8>,
    /// The entries.
    body: Vec<u8>,
    /// The checksum.
    tail: [u8; 4],
    /// How many entries it holds.
    pub entries: u64,
}

impl Snapshot {
    /// The file's bytes, in order.
    pub fn parts(&self) -> [&[u8]; 3] {
        [&self.head, &self.body, &self.tail]
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        (self.head.len() + self.body.len() + self.tail.len()) as u64
    }

    /// True for a snapshot of no bytes (never: a header is always there).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Encodes every live entry of `store` through one [`Store::walk`]: each entry is copied into
/// the snapshot's buffer under the walk's read lock (a memcpy, nothing else), and namespace
/// ids become names after the walk.
pub fn of_store(store: &Store) -> Snapshot {
    // Sized once from the store's byte count (an upper bound of the encoded size), so the walk
    // never stops to copy a growing buffer.
    let mut w = Writer::new();
    w.body
        .reserve(usize::try_from(store.stats().bytes).unwrap_or(0));
    let mut ids: HashMap<Ns, u32> = HashMap::new();
    let mut order: Vec<Ns> = Vec::new();
    let mut last: Option<(Ns, u32)> = None;
    store.walk(|e| {
        let idx = match last {
            Some((ns, i)) if ns == e.ns => i,
            _ => {
                let next = order.len() as u32;
                let i = *ids.entry(e.ns).or_insert_with(|| {
                    order.push(e.ns);
                    next
                });
                last = Some((e.ns, i));
                i
            }
        };
        w.push(idx, e.key, e.value, e.expires_at_ms);
    });
    for ns in order {
        w.names.push(store.namespace_name(ns));
    }
    w.finish(store.now_ms())
}

/// Reads bytes of a snapshot, every length bounds-checked.
struct Cursor<'a> {
    /// The whole file, checksum excluded.
    buf: &'a [u8],
    /// Read position.
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(format!("bad length at byte {}", self.at))
    }

    fn len(&mut self) -> Result<usize, String> {
        let n = self.varint()?;
        usize::try_from(n).map_err(|_| format!("bad length at byte {}", self.at))
    }
}

/// True when `bytes` starts like a snapshot (the magic), whatever its version.
pub fn is_snapshot(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Decodes a whole snapshot: checks magic, version and checksum first, then every entry; the
/// entries borrow their keys and values from `bytes`. Errors say what is wrong in words a user
/// can act on.
pub fn decode(bytes: &[u8]) -> Result<LoadBatch<'_>, String> {
    if !is_snapshot(bytes) {
        return Err("not a TinyKV snapshot (no TINYKVSN header)".into());
    }
    if bytes.len() < HEADER + 4 {
        return Err(format!("truncated snapshot ({} bytes)", bytes.len()));
    }
    let mut c = Cursor { buf: bytes, at: 8 };
    let version = c.u32()?;
    if version > VERSION {
        return Err(format!(
            "snapshot format version {version} is newer than this TinyKV reads (up to \
             {VERSION}); load it with a newer TinyKV"
        ));
    }
    if version == 0 {
        return Err("snapshot format version 0 is not valid".into());
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    if crc32fast::hash(body) != stored {
        return Err("snapshot checksum mismatch: the file is damaged or truncated".into());
    }
    let mut c = Cursor {
        buf: body,
        at: c.at,
    };
    let _flags = c.u32()?;
    let _created = c.u64()?;
    let count = c.u64()?;
    let names = c.u32()?;
    let mut batch = LoadBatch::default();
    for _ in 0..names {
        let n = c.len()?;
        let name = std::str::from_utf8(c.take(n)?)
            .map_err(|_| format!("namespace name at byte {} is not UTF-8", c.at))?;
        batch.namespaces.push(name.to_string());
    }
    // Capacity from the header, bounded by what the bytes can hold (a lying header cannot
    // make us allocate more than the file's size in entries).
    let cap = usize::try_from(count).unwrap_or(0).min(body.len() / 4);
    batch.entries.reserve(cap);
    while c.at < body.len() {
        let tag = c.u8()?;
        if tag & !(TAG_INT | TAG_TTL) != 0 {
            return Err(format!("unknown entry tag {tag} at byte {}", c.at - 1));
        }
        let ns = c.varint()?;
        if ns >= u64::from(names) {
            return Err(format!(
                "namespace index {ns} out of range at byte {}",
                c.at
            ));
        }
        let klen = c.len()?;
        let key = c.take(klen)?;
        let value = if tag & TAG_INT != 0 {
            LoadValue::Int(c.u64()? as i64)
        } else {
            let vlen = c.len()?;
            LoadValue::Bytes(Cow::Borrowed(c.take(vlen)?))
        };
        let expires_at_ms = if tag & TAG_TTL != 0 {
            Some(c.u64()?)
        } else {
            None
        };
        batch.entries.push(LoadEntry {
            ns: ns as u32,
            key: Cow::Borrowed(key),
            value,
            expires_at_ms,
        });
    }
    if batch.entries.len() as u64 != count {
        return Err(format!(
            "snapshot holds {} entries but its header says {count}",
            batch.entries.len()
        ));
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new();
        let d = w.namespace("default");
        let s = w.namespace("sessions");
        w.push(d, b"a", ValueRef::Bytes(b"1"), None);
        w.push(s, b"\xff\x00", ValueRef::Int(-7), Some(1_767_225_600_000));
        w.push(d, b"", ValueRef::Bytes(b""), Some(5));
        let snap = w.finish(42);
        snap.parts().concat()
    }

    #[test]
    fn round_trips() {
        let bytes = sample();
        let b = decode(&bytes).unwrap();
        assert_eq!(b.namespaces, vec!["default", "sessions"]);
        assert_eq!(b.entries.len(), 3);
        assert_eq!(b.entries[1].key.as_ref(), b"\xff\x00");
        assert_eq!(b.entries[1].value, LoadValue::Int(-7));
        assert_eq!(b.entries[1].expires_at_ms, Some(1_767_225_600_000));
        assert_eq!(b.entries[2].value, LoadValue::Bytes(Cow::Borrowed(b"")));
    }

    #[test]
    fn refuses_newer_versions_damage_and_truncation() {
        let mut bytes = sample();
        bytes[8] = 2;
        let e = decode(&bytes).unwrap_err();
        assert!(e.contains("version 2 is newer"), "{e}");
        let mut bytes = sample();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        assert!(decode(&bytes).unwrap_err().contains("checksum"));
        let bytes = sample();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(b"{\"key\":1}")
            .unwrap_err()
            .contains("not a TinyKV snapshot"));
    }
}
