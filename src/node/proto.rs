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
    let Some(key) = kb.read(env, argv[0]) else { return raw::throw(env, raw::Kind::Type, "key must be a string") };
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
    let Some(key) = kb.read(env, argv[0]) else { return raw::throw(env, raw::Kind::Type, "key must be a string") };
    let mut vb = StrBuf::<4096>::new();
    let Some(val) = vb.read(env, argv[1]) else { return raw::throw(env, raw::Kind::Type, "value must be a string") };
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
