//! Temporary prototype to measure N-API call overheads and entry layouts (removed once the store lands).
use super::raw::{self, StrBuf};
use dashmap::{DashMap, DashSet};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ptr::null_mut;

struct Compact(Box<[u8]>); // [klen u32 LE][key][value]
impl Compact {
    fn key(&self) -> &[u8] {
        let k = u32::from_le_bytes(self.0[..4].try_into().unwrap()) as usize;
        &self.0[4..4 + k]
    }
    fn val(&self) -> &[u8] {
        let k = u32::from_le_bytes(self.0[..4].try_into().unwrap()) as usize;
        &self.0[4 + k..]
    }
}
impl Hash for Compact {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.key().hash(h)
    }
}
impl PartialEq for Compact {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl Eq for Compact {}
impl Borrow<[u8]> for Compact {
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}

enum Map {
    Split(DashMap<Box<[u8]>, Box<[u8]>>),
    Compact(DashSet<Compact>),
    /// One allocation per entry, no locks at all (single-threaded floor).
    Bare(std::cell::UnsafeCell<hashbrown::HashSet<Compact>>),
}

unsafe extern "C" fn p_noop(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    raw::undefined(env)
}

unsafe extern "C" fn p_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let (argv, data) = raw::args::<1>(env, info);
    let mut kb = StrBuf::<{ raw::STACK_KEY }>::new();
    let Some(key) = kb.read(env, argv[0]) else {
        return raw::throw(env, raw::Kind::Type, "key must be a string");
    };
    match &*(data as *const Map) {
        Map::Split(m) => match m.get(key.as_bytes()) {
            Some(v) => raw::string(env, &v),
            None => raw::undefined(env),
        },
        Map::Compact(m) => match m.get(key.as_bytes()) {
            Some(e) => raw::string(env, e.val()),
            None => raw::undefined(env),
        },
        Map::Bare(m) => match (*m.get()).get(key.as_bytes()) {
            Some(e) => raw::string(env, e.val()),
            None => raw::undefined(env),
        },
    }
}

unsafe extern "C" fn p_mget(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let (argv, data) = raw::args::<1>(env, info);
    let mut n = 0u32;
    sys::napi_get_array_length(env, argv[0], &mut n);
    let mut bytes = Vec::with_capacity(n as usize * 16);
    let mut ends = Vec::with_capacity(n as usize);
    let mut kb = StrBuf::<{ raw::STACK_KEY }>::new();
    for i in 0..n {
        let mut el = null_mut();
        sys::napi_get_element(env, argv[0], i, &mut el);
        bytes.extend_from_slice(kb.read(env, el).unwrap_or_default().as_bytes());
        ends.push(bytes.len());
    }
    let mut arr = null_mut();
    sys::napi_create_array_with_length(env, n as usize, &mut arr);
    let undef = raw::undefined(env);
    let mut start = 0;
    let map = &*(data as *const Map);
    for (i, &end) in ends.iter().enumerate() {
        let k = &bytes[start..end];
        start = end;
        let v = match map {
            Map::Split(m) => m.get(k).map(|v| raw::string(env, &v)),
            Map::Compact(m) => m.get(k).map(|e| raw::string(env, e.val())),
            Map::Bare(m) => (*m.get()).get(k).map(|e| raw::string(env, e.val())),
        };
        sys::napi_set_element(env, arr, i as u32, v.unwrap_or(undef));
    }
    arr
}

unsafe extern "C" fn p_set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let (argv, data) = raw::args::<2>(env, info);
    let mut kb = StrBuf::<{ raw::STACK_KEY }>::new();
    let Some(key) = kb.read(env, argv[0]) else {
        return raw::throw(env, raw::Kind::Type, "key must be a string");
    };
    let mut vb = StrBuf::<4096>::new();
    let Some(val) = vb.read(env, argv[1]) else {
        return raw::throw(env, raw::Kind::Type, "value must be a string");
    };
    match &*(data as *const Map) {
        Map::Split(m) => {
            m.insert(key.as_bytes().into(), val.as_bytes().into());
        }
        Map::Compact(m) => {
            let mut b = Vec::with_capacity(4 + key.len() + val.len());
            b.extend_from_slice(&(key.len() as u32).to_le_bytes());
            b.extend_from_slice(key.as_bytes());
            b.extend_from_slice(val.as_bytes());
            m.insert(Compact(b.into_boxed_slice()));
        }
        Map::Bare(m) => {
            let mut b = Vec::with_capacity(4 + key.len() + val.len());
            b.extend_from_slice(&(key.len() as u32).to_le_bytes());
            b.extend_from_slice(key.as_bytes());
            b.extend_from_slice(val.as_bytes());
            (*m.get()).insert(Compact(b.into_boxed_slice()));
        }
    }
    raw::boolean(env, true)
}

/// Prototype: a free napi-rs function taking one `String` (measures napi-rs conversion cost).
#[napi(js_name = "__protoStrLen")]
pub fn proto_str_len(s: String) -> u32 {
    s.len() as u32
}

/// Prototype: an object `{ noop, get, set }` of raw callbacks over a split or compact layout.
#[napi(js_name = "__protoNew")]
pub fn proto_new(env: &Env, layout: String) -> Result<Object<'_>> {
    let map = Box::into_raw(Box::new(match layout.as_str() {
        "compact" => Map::Compact(DashSet::new()),
        "bare" => Map::Bare(Default::default()),
        _ => Map::Split(DashMap::new()),
    }));
    let mut obj = Object::new(env)?;
    unsafe {
        for (name, cb) in [
            ("noop", p_noop as unsafe extern "C" fn(_, _) -> _),
            ("get", p_get),
            ("set", p_set),
            ("mget", p_mget),
        ] {
            let mut f = null_mut();
            let st = sys::napi_create_function(
                env.raw(),
                name.as_ptr().cast(),
                name.len() as isize,
                Some(cb),
                map.cast(),
                &mut f,
            );
            assert_eq!(st, sys::Status::napi_ok);
            obj.set_named_property(name, Unknown::from_raw_unchecked(env.raw(), f))?;
        }
    }
    Ok(obj)
}

/// A flat open-addressing table: 16-byte slots holding the full hash and a pointer to one
/// allocation `[klen u32][vlen u32][key][value]`. A hit costs one slot miss + one entry miss.
pub(crate) struct Flat {
    slots: Vec<(u64, *mut u8)>,
    len: usize,
    hasher: foldhash::fast::FixedState,
}

impl Flat {
    fn new() -> Self {
        Flat {
            slots: vec![(0, std::ptr::null_mut()); 1024],
            len: 0,
            hasher: Default::default(),
        }
    }
    #[inline(always)]
    fn hash(&self, k: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(k) | 1
    }
    #[inline(always)]
    unsafe fn parts<'a>(p: *const u8) -> (&'a [u8], &'a [u8]) {
        let kl = (p as *const u32).read_unaligned() as usize;
        let vl = (p.add(4) as *const u32).read_unaligned() as usize;
        (
            std::slice::from_raw_parts(p.add(8), kl),
            std::slice::from_raw_parts(p.add(8 + kl), vl),
        )
    }
    #[inline(always)]
    fn find_from(&self, h: u64, k: &[u8]) -> Option<&[u8]> {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (sh, p) = self.slots[i];
            if p.is_null() {
                return None;
            }
            if sh == h {
                let (kk, v) = unsafe { Self::parts(p) };
                if kk == k {
                    return Some(v);
                }
            }
            i = (i + 1) & mask;
        }
    }
    #[inline(always)]
    fn prefetch_slot(&self, h: u64) {
        let i = h as usize & (self.slots.len() - 1);
        #[cfg(target_arch = "x86_64")]
        unsafe {
            std::arch::x86_64::_mm_prefetch(
                self.slots.as_ptr().add(i) as *const i8,
                std::arch::x86_64::_MM_HINT_T0,
            )
        };
    }
    fn insert(&mut self, k: &[u8], v: &[u8]) {
        if (self.len + 1) * 2 > self.slots.len() {
            let cap = self.slots.len() * 2;
            let old = std::mem::replace(&mut self.slots, vec![(0, std::ptr::null_mut()); cap]);
            let mask = self.slots.len() - 1;
            for (h, p) in old.into_iter().filter(|s| !s.1.is_null()) {
                let mut i = h as usize & mask;
                while !self.slots[i].1.is_null() {
                    i = (i + 1) & mask;
                }
                self.slots[i] = (h, p);
            }
        }
        let h = self.hash(k);
        let mut b = Vec::with_capacity(8 + k.len() + v.len());
        b.extend_from_slice(&(k.len() as u32).to_le_bytes());
        b.extend_from_slice(&(v.len() as u32).to_le_bytes());
        b.extend_from_slice(k);
        b.extend_from_slice(v);
        let p = Box::into_raw(b.into_boxed_slice()) as *mut u8;
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (sh, q) = self.slots[i];
            if q.is_null() {
                self.slots[i] = (h, p);
                self.len += 1;
                return;
            }
            if sh == h && unsafe { Self::parts(q) }.0 == k {
                self.slots[i].1 = p; // leak the old entry: prototype only
                return;
            }
            i = (i + 1) & mask;
        }
    }
}

unsafe extern "C" fn f_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let (argv, data) = raw::args::<1>(env, info);
    let mut kb = StrBuf::<{ raw::STACK_KEY }>::new();
    let key = kb.read(env, argv[0]).unwrap_or_default().as_bytes();
    let t = &*(data as *const Flat);
    match t.find_from(t.hash(key), key) {
        Some(v) => raw::string(env, v),
        None => raw::undefined(env),
    }
}

unsafe extern "C" fn f_set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let (argv, data) = raw::args::<2>(env, info);
    let mut kb = StrBuf::<{ raw::STACK_KEY }>::new();
    let key = kb.read(env, argv[0]).unwrap_or_default();
    let mut vb = StrBuf::<1024>::new();
    let val = vb.read(env, argv[1]).unwrap_or_default();
    (*(data as *mut Flat)).insert(key.as_bytes(), val.as_bytes());
    raw::boolean(env, true)
}

/// Batched lookup with software prefetch: read keys (prefetching the JS strings), hash all and
/// prefetch their slots, then probe; values are copied to a scratch buffer before any string
/// is created so the probes overlap.
unsafe extern "C" fn f_mget(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let (argv, data) = raw::args::<1>(env, info);
    let t = &*(data as *const Flat);
    let mut n = 0u32;
    sys::napi_get_array_length(env, argv[0], &mut n);
    let mut els = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut el = null_mut();
        sys::napi_get_element(env, argv[0], i, &mut el);
        super::ops::prefetch_js(el);
        els.push(el);
    }
    let mut bytes = Vec::with_capacity(n as usize * 16);
    let mut ends = Vec::with_capacity(n as usize);
    let mut hashes = Vec::with_capacity(n as usize);
    let mut kb = StrBuf::<{ raw::STACK_KEY }>::new();
    for &el in &els {
        let k = kb.read(env, el).unwrap_or_default().as_bytes();
        let h = t.hash(k);
        t.prefetch_slot(h);
        hashes.push(h);
        bytes.extend_from_slice(k);
        ends.push(bytes.len());
    }
    let mut vals: Vec<u8> = Vec::with_capacity(n as usize * 128);
    let mut spans = Vec::with_capacity(n as usize);
    let mut start = 0;
    for (i, &end) in ends.iter().enumerate() {
        let k = &bytes[start..end];
        start = end;
        spans.push(t.find_from(hashes[i], k).map(|v| {
            let at = vals.len();
            vals.extend_from_slice(v);
            (at, v.len())
        }));
    }
    let mut arr = null_mut();
    sys::napi_create_array_with_length(env, n as usize, &mut arr);
    let undef = raw::undefined(env);
    for (i, s) in spans.iter().enumerate() {
        let v = match *s {
            Some((at, len)) => raw::string(env, &vals[at..at + len]),
            None => undef,
        };
        sys::napi_set_element(env, arr, i as u32, v);
    }
    arr
}

/// Prototype: `{ get, set, mget }` over the flat table (single-threaded, no locks).
#[napi(js_name = "__protoFlat")]
pub fn proto_flat(env: &Env) -> Result<Object<'_>> {
    let t = Box::into_raw(Box::new(Flat::new()));
    let mut obj = Object::new(env)?;
    unsafe {
        for (name, cb) in [
            ("get", f_get as unsafe extern "C" fn(_, _) -> _),
            ("set", f_set),
            ("mget", f_mget),
        ] {
            let mut f = null_mut();
            sys::napi_create_function(
                env.raw(),
                name.as_ptr().cast(),
                name.len() as isize,
                Some(cb),
                t.cast(),
                &mut f,
            );
            obj.set_named_property(name, Unknown::from_raw_unchecked(env.raw(), f))?;
        }
    }
    Ok(obj)
}
