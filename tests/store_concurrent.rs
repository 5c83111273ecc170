//! A store built for worker threads (`Config::concurrent`) against a plain one. Its reads skip
//! the shard lock's shared word and record recency only to `ACCESS_RESOLUTION_MS`, and
//! neither may show: random operation sequences get the same answers, content and counters
//! from both (keys of every UTF-8 width and raw bytes, tables growing and shrinking); with the
//! clock stepping by the resolution before every operation, LRU eviction picks the same
//! victims; idle time and the LFU counter follow the resolution rule exactly (manual clock);
//! threads mixing writes and self-checking reads with shrinking, reaping and scans meanwhile
//! never see a torn or foreign value, and INCR totals come out exact; and a `get_with` closure
//! that panics does not leave its read registered, so writers on its shard still finish.

use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tinykv::store::{
    Config, EvictionPolicy, ManualClock, Ns, SetOptions, SetOutcome, Stats, Store, StoredKey, Ttl,
    Value, ValueRef, ACCESS_RESOLUTION_MS,
};

const D: Ns = Ns::DEFAULT;

/// Where every manual clock starts (ms).
const START_MS: u64 = 1_000_000;

/// The LFU counter of a new entry (Redis's LFU_INIT_VAL; see `EntryInfo::frequency`).
const LFU_INIT: u8 = 5;

/// How long a thread that should finish at once may take before the test calls it a hang.
/// A failure detector, not a timing assertion: nothing waits this long unless it is stuck.
const HANG: Duration = Duration::from_secs(30);

/// A store with no reaper thread on its own manual clock, `concurrent` as asked.
fn store(concurrent: bool, config: Config) -> (Store, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START_MS));
    let config = Config {
        concurrent,
        reaper_interval_ms: 0,
        ..config
    };
    (Store::with_clock(config, clock.clone()).unwrap(), clock)
}

/// FNV-1a, for the stress test's self-checking values.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Pieces keys are built of: ASCII, 2-, 3- and 4-byte UTF-8 characters, and bytes that are
/// not UTF-8 (a lone continuation byte, a lead byte with no continuation, 0xFF).
const PIECES: [&[u8]; 8] = [
    b"k",
    "\u{e9}".as_bytes(),    // é, 2 bytes
    "\u{8a9e}".as_bytes(),  // 語, 3 bytes
    "\u{1f980}".as_bytes(), // 🦀, 4 bytes
    b"\xff",
    b"\x80\xc3",
    b":",
    "\u{20ac}x".as_bytes(), // €x, 3 + 1 bytes
];

/// Target key lengths: short ones, and those around 8 and 16 bytes (the key comparison's
/// 8..=16 byte fast path) and 32, up to a few dozen bytes.
const KEY_LENGTHS: [usize; 17] = [1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 20, 24, 31, 32, 33, 44];

/// `n` distinct keys: key 0 is empty, the rest mix the pieces (one kind or two alternating)
/// to about a target length and end in their index, which makes them distinct.
fn key_pool(n: usize) -> Vec<Vec<u8>> {
    let keys: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            if i == 0 {
                return Vec::new();
            }
            let digits = i.to_string();
            let target = KEY_LENGTHS[i % KEY_LENGTHS.len()].saturating_sub(digits.len());
            let mut key = Vec::new();
            let mut j = 0;
            while key.len() < target {
                let piece = PIECES[(i + j * (i / PIECES.len() % 3)) % PIECES.len()];
                if key.len() + piece.len() > target && !key.is_empty() {
                    break;
                }
                key.extend_from_slice(piece);
                j += 1;
            }
            key.extend_from_slice(digits.as_bytes());
            key
        })
        .collect();
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        n,
        "pool keys are distinct"
    );
    keys
}

// ---------------------------------------------------------------------------------------
// 1. Random operation sequences: a concurrent store answers exactly as a plain one.
// ---------------------------------------------------------------------------------------

/// Distinct keys the property test draws from (enough for each of the two shards' tables to
/// pass 4, 8, 16, ... 256 buckets).
const KEYS: usize = 300;

#[derive(Debug, Clone)]
enum Op {
    Set {
        ns: usize,
        key: usize,
        value: Value,
        ttl: Option<u64>,
        nx: bool,
        xx: bool,
        keep_ttl: bool,
        get: bool,
    },
    Get(usize, usize),
    GetWith(usize, usize),
    /// `get_with` through a key the caller laid out ([`StoredKey`]).
    GetStored(usize, usize),
    Mget(usize, Vec<usize>),
    Exists(usize, usize),
    Ttl(usize, usize),
    /// OBJECT's view except idle time and frequency, which the modes may record differently.
    Info(usize, usize),
    Delete(usize, usize),
    /// Deletes of many keys, to leave tables sparse enough to shrink.
    DeleteMany(usize, Vec<usize>),
    Take(usize, usize),
    Incr(usize, usize, i64),
    Append(usize, usize, Vec<u8>),
    Rename(usize, usize, usize),
    Mset(usize, Vec<(usize, Value)>, Option<u64>),
    Expire(usize, usize, u64),
    Persist(usize, usize),
    Flush(usize),
    Advance(u64),
    Reap,
    Shrink,
    Keys(usize),
}

/// What an operation answered.
#[derive(Debug, PartialEq)]
enum Answer {
    Nothing,
    Set(tinykv::store::Result<SetOutcome>),
    Value(Option<Value>),
    Values(Vec<Option<Value>>),
    Bool(bool),
    Bools(Vec<bool>),
    Ttl(Ttl),
    Info(Option<(Ttl, u64, bool)>),
    Int(tinykv::store::Result<i64>),
    Len(tinykv::store::Result<usize>),
    Renamed(tinykv::store::Result<bool>),
    Unit(tinykv::store::Result<()>),
    Count(usize),
    Keys(Vec<Vec<u8>>),
}

/// Bytes of many lengths (0, around 8 and 16, up to past 4 KiB), integer-like text, and
/// integers.
fn value() -> impl Strategy<Value = Value> {
    let lengths = vec![
        0usize, 1, 2, 7, 8, 9, 15, 16, 17, 31, 64, 100, 255, 1_000, 4_097,
    ];
    prop_oneof![
        4 => (proptest::sample::select(lengths), any::<u8>()).prop_map(|(len, seed)| {
            Value::Bytes((0..len).map(|i| seed.wrapping_add((i * 31) as u8)).collect())
        }),
        1 => proptest::sample::select(vec![
            "0", "-5", "42", "01", " 1", "+1", "9223372036854775807", "-9223372036854775808", "x",
        ])
        .prop_map(Value::from),
        2 => prop_oneof![-3i64..3, Just(i64::MAX), Just(i64::MIN), any::<i64>()]
            .prop_map(Value::Int),
    ]
}

/// A key index: often one of a few hot keys (so reads hit and writes overwrite), else any.
fn key() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 0usize..8, 2 => 0usize..KEYS]
}

fn op() -> impl Strategy<Value = Op> {
    let ns = 0usize..2;
    let ttl = prop_oneof![3 => Just(None), 1 => (1u64..5_000).prop_map(Some)];
    let delta =
        prop_oneof![8 => -5i64..5, 1 => Just(i64::MAX), 1 => Just(i64::MIN), 1 => any::<i64>()];
    // Weights out of 110: a namespace flushed about once in 55 operations.
    prop_oneof![
        24 => (ns.clone(), key(), value(), ttl.clone(), any::<[bool; 4]>()).prop_map(
            |(ns, key, value, ttl, [nx, xx, keep_ttl, get])| Op::Set {
                ns,
                key,
                value,
                ttl,
                nx: nx && !xx,
                xx,
                keep_ttl: keep_ttl && ttl.is_none(),
                get,
            }
        ),
        16 => (ns.clone(), key()).prop_map(|(n, k)| Op::Get(n, k)),
        8 => (ns.clone(), key()).prop_map(|(n, k)| Op::GetWith(n, k)),
        4 => (ns.clone(), key()).prop_map(|(n, k)| Op::GetStored(n, k)),
        3 => (ns.clone(), proptest::collection::vec(key(), 0..40))
            .prop_map(|(n, k)| Op::Mget(n, k)),
        4 => (ns.clone(), key()).prop_map(|(n, k)| Op::Exists(n, k)),
        4 => (ns.clone(), key()).prop_map(|(n, k)| Op::Ttl(n, k)),
        3 => (ns.clone(), key()).prop_map(|(n, k)| Op::Info(n, k)),
        4 => (ns.clone(), key()).prop_map(|(n, k)| Op::Delete(n, k)),
        2 => (ns.clone(), key()).prop_map(|(n, k)| Op::Take(n, k)),
        2 => (ns.clone(), proptest::collection::vec(0usize..KEYS, 0..200))
            .prop_map(|(n, k)| Op::DeleteMany(n, k)),
        6 => (ns.clone(), key(), delta).prop_map(|(n, k, d)| Op::Incr(n, k, d)),
        3 => (ns.clone(), key(), proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(n, k, s)| Op::Append(n, k, s)),
        3 => (ns.clone(), key(), key()).prop_map(|(n, a, b)| Op::Rename(n, a, b)),
        4 => (ns.clone(), proptest::collection::vec((0usize..KEYS, value()), 0..100), ttl)
            .prop_map(|(n, e, t)| Op::Mset(n, e, t)),
        3 => (ns.clone(), key(), 0u64..5_000).prop_map(|(n, k, t)| Op::Expire(n, k, t)),
        2 => (ns.clone(), key()).prop_map(|(n, k)| Op::Persist(n, k)),
        2 => ns.clone().prop_map(Op::Flush),
        6 => prop_oneof![3 => 0u64..20, 1 => 0u64..3_000].prop_map(Op::Advance),
        2 => Just(Op::Reap),
        3 => Just(Op::Shrink),
        2 => ns.prop_map(Op::Keys),
    ]
}

/// `key` laid out as a binding lays it out: room for the namespace prefix, then its bytes.
fn laid_out(key: &[u8]) -> Vec<u8> {
    let mut buf = vec![0xAA; StoredKey::PREFIX];
    buf.extend_from_slice(key);
    buf
}

/// Sorted, for comparing listings.
fn sorted(mut keys: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    keys.sort();
    keys
}

/// Runs `op` on store `s` (clock `clock`, namespaces `nss`) and returns its answer.
fn apply(s: &Store, clock: &ManualClock, nss: [Ns; 2], keys: &[Vec<u8>], op: &Op) -> Answer {
    let k = |i: usize| keys[i].as_slice();
    match op {
        Op::Set {
            ns,
            key,
            value,
            ttl,
            nx,
            xx,
            keep_ttl,
            get,
        } => {
            let opts = SetOptions {
                ttl_ms: *ttl,
                nx: *nx,
                xx: *xx,
                keep_ttl: *keep_ttl,
                get: *get,
                ..SetOptions::default()
            };
            Answer::Set(s.set(nss[*ns], k(*key), value.clone(), &opts))
        }
        Op::Get(ns, key) => Answer::Value(s.get(nss[*ns], k(*key))),
        Op::GetWith(ns, key) => Answer::Value(s.get_with((nss[*ns], k(*key)), |v| v.to_owned())),
        Op::GetStored(ns, key) => {
            let mut buf = laid_out(k(*key));
            let stored = StoredKey::new(nss[*ns], &mut buf).unwrap();
            Answer::Value(s.get_with(stored, |v| v.to_owned()))
        }
        Op::Mget(ns, list) => {
            let names: Vec<&[u8]> = list.iter().map(|&i| k(i)).collect();
            Answer::Values(s.mget(nss[*ns], &names))
        }
        Op::Exists(ns, key) => Answer::Bool(s.exists((nss[*ns], k(*key)))),
        Op::Ttl(ns, key) => Answer::Ttl(s.ttl((nss[*ns], k(*key)))),
        Op::Info(ns, key) => {
            Answer::Info(s.info(nss[*ns], k(*key)).map(|i| (i.ttl, i.size, i.is_int)))
        }
        Op::Delete(ns, key) => Answer::Bool(s.delete((nss[*ns], k(*key)))),
        Op::DeleteMany(ns, list) => {
            Answer::Bools(list.iter().map(|&i| s.delete((nss[*ns], k(i)))).collect())
        }
        Op::Take(ns, key) => Answer::Value(s.take(nss[*ns], k(*key))),
        Op::Incr(ns, key, delta) => Answer::Int(s.incr_by((nss[*ns], k(*key)), *delta)),
        Op::Append(ns, key, suffix) => Answer::Len(s.append(nss[*ns], k(*key), suffix)),
        Op::Rename(ns, from, to) => Answer::Renamed(s.rename(nss[*ns], k(*from), k(*to))),
        Op::Mset(ns, entries, ttl) => {
            let entries: Vec<(&[u8], ValueRef<'_>)> =
                entries.iter().map(|(i, v)| (k(*i), v.view())).collect();
            let opts = SetOptions {
                ttl_ms: *ttl,
                ..SetOptions::default()
            };
            Answer::Unit(s.mset(nss[*ns], &entries, &opts))
        }
        Op::Expire(ns, key, ttl) => Answer::Bool(s.expire((nss[*ns], k(*key)), *ttl)),
        Op::Persist(ns, key) => Answer::Bool(s.persist((nss[*ns], k(*key)))),
        Op::Flush(ns) => Answer::Count(s.flush(nss[*ns])),
        Op::Advance(ms) => {
            clock.advance(*ms);
            Answer::Nothing
        }
        Op::Reap => Answer::Count(s.reap_expired()),
        // How many tables a shrink rebuilds depends on where keys hash, and every store seeds
        // its hasher at random: the count is not an answer two stores share.
        Op::Shrink => {
            s.shrink_tables();
            Answer::Nothing
        }
        Op::Keys(ns) => Answer::Keys(sorted(s.keys_bytes(nss[*ns], b"*"))),
    }
}

/// The store's two namespaces: the default one and `two`.
fn namespaces(s: &Store) -> [Ns; 2] {
    [D, s.namespace("two").unwrap()]
}

/// Every live key of `ns` by a full cursor SCAN (a shrink may repeat keys, so as a set),
/// checked against KEYS, with its value and TTL.
fn content(s: &Store, ns: Ns) -> BTreeMap<Vec<u8>, (Option<Value>, Ttl)> {
    let seen = scanned(s, ns, 16);
    let listed: HashSet<Vec<u8>> = s.keys_bytes(ns, b"*").into_iter().collect();
    assert_eq!(seen, listed, "SCAN and KEYS list the same keys");
    seen.into_iter()
        .map(|k| {
            let v = s.get(ns, &k);
            let t = s.ttl((ns, &k));
            (k, (v, t))
        })
        .collect()
}

/// The counters and totals both modes must agree on: all but the table's bytes (the
/// concurrent table may lay out its reader slots differently).
fn counters(st: &Stats) -> impl PartialEq + Debug {
    (
        (
            st.hits, st.misses, st.sets, st.deletes, st.expired, st.evicted,
        ),
        st.keys,
        st.bytes - st.table_bytes,
        st.namespaces.clone(),
    )
}

fn same_answers(ops: &[Op]) -> Result<(), TestCaseError> {
    let keys = key_pool(KEYS);
    let config = || Config {
        shards: 2,
        ..Config::default()
    };
    let (c, c_clock) = store(true, config());
    let (p, p_clock) = store(false, config());
    let (c_ns, p_ns) = (namespaces(&c), namespaces(&p));
    prop_assert_eq!(c_ns, p_ns, "namespace ids");
    for (i, op) in ops.iter().enumerate() {
        let got = apply(&c, &c_clock, c_ns, &keys, op);
        let want = apply(&p, &p_clock, p_ns, &keys, op);
        prop_assert_eq!(got, want, "op {}: {:?}", i, op);
        let lens = |s: &Store, nss: [Ns; 2]| (s.total_len(), s.len(nss[0]), s.len(nss[1]));
        prop_assert_eq!(lens(&c, c_ns), lens(&p, p_ns), "lengths after op {}", i);
    }
    prop_assert_eq!(
        counters(&c.stats()),
        counters(&p.stats()),
        "stats after the run"
    );
    for n in 0..2 {
        prop_assert_eq!(
            content(&c, c_ns[n]),
            content(&p, p_ns[n]),
            "namespace {}",
            n
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_concurrent_store_answers_exactly_as_a_plain_one(
        ops in proptest::collection::vec(op(), 1..400)
    ) {
        same_answers(&ops)?;
    }
}

// ---------------------------------------------------------------------------------------
// 2. With the clock stepping by the resolution, LRU eviction picks the same victims.
// ---------------------------------------------------------------------------------------

/// Keys the eviction test uses, of which [`CAP`] fit.
const EVICTION_KEYS: usize = 16;
const CAP: usize = 6;

#[derive(Debug, Clone)]
enum EvOp {
    /// Set with a TTL of that many resolution steps, if any.
    Set(usize, u8, Option<u64>),
    Get(usize),
    GetWith(usize),
    Mget(Vec<usize>),
    Exists(usize),
    Ttl(usize),
    Delete(usize),
    Incr(usize),
    Append(usize),
    Expire(usize, u64),
}

fn ev_op() -> impl Strategy<Value = EvOp> {
    let key = 0usize..EVICTION_KEYS;
    let ttl = prop_oneof![3 => Just(None), 1 => (1u64..20).prop_map(Some)];
    prop_oneof![
        5 => (key.clone(), any::<u8>(), ttl).prop_map(|(k, v, t)| EvOp::Set(k, v, t)),
        5 => key.clone().prop_map(EvOp::Get),
        2 => key.clone().prop_map(EvOp::GetWith),
        // Distinct keys: a key read twice in one MGET is read twice in the same millisecond,
        // and a concurrent store records only the first of those (the resolution at work).
        1 => proptest::collection::btree_set(key.clone(), 0..8)
            .prop_map(|ks| EvOp::Mget(ks.into_iter().collect())),
        1 => key.clone().prop_map(EvOp::Exists),
        1 => key.clone().prop_map(EvOp::Ttl),
        1 => key.clone().prop_map(EvOp::Delete),
        2 => key.clone().prop_map(EvOp::Incr),
        1 => key.clone().prop_map(EvOp::Append),
        1 => (key, 0u64..20).prop_map(|(k, t)| EvOp::Expire(k, t)),
    ]
}

/// Runs `op` on `s` and returns its answer (TTLs in resolution steps).
fn ev_apply(s: &Store, keys: &[Vec<u8>], op: &EvOp) -> Answer {
    let k = |i: usize| keys[i].as_slice();
    match op {
        EvOp::Set(key, v, ttl) => {
            let opts = SetOptions {
                ttl_ms: ttl.map(|t| t * ACCESS_RESOLUTION_MS),
                ..SetOptions::default()
            };
            Answer::Set(s.set(D, k(*key), Value::Bytes(vec![*v; 3]), &opts))
        }
        EvOp::Get(key) => Answer::Value(s.get(D, k(*key))),
        EvOp::GetWith(key) => Answer::Value(s.get_with((D, k(*key)), |v| v.to_owned())),
        EvOp::Mget(list) => {
            let names: Vec<&[u8]> = list.iter().map(|&i| k(i)).collect();
            Answer::Values(s.mget(D, &names))
        }
        EvOp::Exists(key) => Answer::Bool(s.exists((D, k(*key)))),
        EvOp::Ttl(key) => Answer::Ttl(s.ttl((D, k(*key)))),
        EvOp::Delete(key) => Answer::Bool(s.delete((D, k(*key)))),
        EvOp::Incr(key) => Answer::Int(s.incr_by((D, k(*key)), 1)),
        EvOp::Append(key) => Answer::Len(s.append(D, k(*key), b"+")),
        EvOp::Expire(key, t) => Answer::Bool(s.expire((D, k(*key)), t * ACCESS_RESOLUTION_MS)),
    }
}

/// Every fifth pool key: keys of several widths and lengths.
fn eviction_keys() -> Vec<Vec<u8>> {
    key_pool(EVICTION_KEYS * 5).into_iter().step_by(5).collect()
}

/// An entry cap and LRU; samples above the cap, so the sampler sees every entry and eviction
/// is exact LRU.
fn eviction_config() -> Config {
    Config {
        max_entries: Some(CAP),
        eviction_policy: EvictionPolicy::Lru,
        eviction_samples: 64,
        shards: 2,
        ..Config::default()
    }
}

fn same_victims(ops: &[EvOp]) -> Result<(), TestCaseError> {
    let keys = eviction_keys();
    let (c, c_clock) = store(true, eviction_config());
    let (p, p_clock) = store(false, eviction_config());
    for (i, op) in ops.iter().enumerate() {
        c_clock.advance(ACCESS_RESOLUTION_MS);
        p_clock.advance(ACCESS_RESOLUTION_MS);
        let got = ev_apply(&c, &keys, op);
        let want = ev_apply(&p, &keys, op);
        prop_assert_eq!(got, want, "op {}: {:?}", i, op);
        prop_assert_eq!(
            sorted(c.keys_bytes(D, b"*")),
            sorted(p.keys_bytes(D, b"*")),
            "live keys after op {}: {:?}",
            i,
            op
        );
        let (cs, ps) = (c.stats(), p.stats());
        prop_assert_eq!(
            (cs.evicted, cs.expired, cs.keys),
            (ps.evicted, ps.expired, ps.keys),
            "evicted, expired, keys after op {}",
            i
        );
    }
    prop_assert_eq!(counters(&c.stats()), counters(&p.stats()), "stats");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stepping_by_the_resolution_evicts_as_a_plain_store(
        ops in proptest::collection::vec(ev_op(), 1..300)
    ) {
        same_victims(&ops)?;
    }
}

/// A fixed case with a known answer: with the cap full, a read saves its key and the least
/// recently used one goes, in both modes, when the clock steps by the resolution.
#[test]
fn a_read_saves_its_key_from_eviction_in_both_modes() {
    let mut ops: Vec<EvOp> = (0..CAP).map(|k| EvOp::Set(k, 1, None)).collect();
    ops.push(EvOp::Get(0));
    ops.push(EvOp::Set(CAP, 1, None));
    same_victims(&ops).unwrap();
    let keys = eviction_keys();
    let mut want: Vec<Vec<u8>> = (0..=CAP)
        .filter(|&k| k != 1)
        .map(|k| keys[k].clone())
        .collect();
    want.sort();
    for concurrent in [false, true] {
        let (s, clock) = store(concurrent, eviction_config());
        for op in &ops {
            clock.advance(ACCESS_RESOLUTION_MS);
            ev_apply(&s, &keys, op);
        }
        assert_eq!(s.stats().evicted, 1, "concurrent: {concurrent}");
        assert_eq!(
            sorted(s.keys_bytes(D, b"*")),
            want,
            "concurrent: {concurrent}: key 1, not the key read, was evicted"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. Idle time and the LFU counter under the resolution rule (manual clock).
// ---------------------------------------------------------------------------------------

/// Idle time and LFU counter of `key`, as OBJECT IDLETIME and OBJECT FREQ report them.
fn idle_freq(s: &Store, key: &str) -> (u64, u8) {
    let i = s.info(D, key).expect("the key is live");
    (i.idle_ms, i.frequency)
}

/// Reads `key` `n` times at the current clock time; its LFU counter must grow past its start
/// (Redis's logarithmic counter reaches about 25 after 2,000 reads).
fn warm(s: &Store, key: &str, n: usize, what: &str) {
    for _ in 0..n {
        assert!(s.get(D, key).is_some(), "{what}: {key} is live");
    }
    let (_, freq) = idle_freq(s, key);
    assert!(
        freq > LFU_INIT + 5,
        "{what}: {n} reads within 1 ms raise OBJECT FREQ above {LFU_INIT}: {freq}"
    );
}

/// A concurrent store rewrites an entry's access time on a read only when it is at least
/// `ACCESS_RESOLUTION_MS` old or the read changed the LFU counter (which still grows per read).
/// The first read of a new entry always raises the counter (Redis's counter grows with
/// certainty at its initial value), so the "not refreshed" case is checked on a warmed entry,
/// whose counter grows on about one read in 200: every read below decides which case it is
/// from OBJECT FREQ, and most must be the unrefreshed one.
#[test]
fn a_concurrent_store_refreshes_recency_once_per_resolution() {
    let (s, clock) = store(true, Config::default());
    s.set(D, "hot", Value::from("v"), &SetOptions::default())
        .unwrap();
    assert_eq!(idle_freq(&s, "hot"), (0, LFU_INIT), "a new entry");
    warm(&s, "hot", 2_000, "concurrent");
    // All those reads were at START_MS: the last recorded access is now.
    let mut last = s.now_ms();
    assert_eq!(idle_freq(&s, "hot").0, 0);
    let mut unrefreshed = 0;
    // Reads 10 ms apart, 400 ms in all: under the resolution since the last recorded access.
    for step in 0..40 {
        clock.advance(10);
        let (_, before) = idle_freq(&s, "hot");
        assert!(s.get(D, "hot").is_some());
        let (idle, after) = idle_freq(&s, "hot");
        let now = s.now_ms();
        if after != before {
            assert_eq!(
                idle, 0,
                "read {step} changed the LFU counter: access recorded"
            );
            last = now;
        } else {
            assert_eq!(
                idle,
                now - last,
                "read {step}, {} ms after the last recorded access: idle time not refreshed",
                now - last
            );
            unrefreshed += 1;
        }
    }
    assert!(
        unrefreshed >= 30,
        "most reads of a warm entry leave its LFU counter alone: {unrefreshed} of 40"
    );
    // One millisecond short of the resolution: still not refreshed (unless the counter moved).
    clock.set(last + ACCESS_RESOLUTION_MS - 1);
    let (_, before) = idle_freq(&s, "hot");
    s.get(D, "hot").unwrap();
    let (idle, after) = idle_freq(&s, "hot");
    if after == before {
        assert_eq!(idle, ACCESS_RESOLUTION_MS - 1, "just under the resolution");
    } else {
        last = s.now_ms();
    }
    // At the resolution: the read records the access.
    clock.set(last + ACCESS_RESOLUTION_MS);
    assert_eq!(idle_freq(&s, "hot").0, ACCESS_RESOLUTION_MS);
    s.get(D, "hot").unwrap();
    assert_eq!(idle_freq(&s, "hot").0, 0, "refreshed at the resolution");
}

/// A plain store records every read; both modes raise the LFU counter with many reads.
#[test]
fn a_plain_store_refreshes_recency_on_every_read() {
    let (s, clock) = store(false, Config::default());
    s.set(D, "k", Value::from("v"), &SetOptions::default())
        .unwrap();
    for step in 0..5 {
        clock.advance(10);
        assert_eq!(
            idle_freq(&s, "k").0,
            10,
            "step {step}: idle since the last read"
        );
        assert!(s.get(D, "k").is_some());
        assert_eq!(
            idle_freq(&s, "k").0,
            0,
            "step {step}: the read refreshed it"
        );
    }
    s.set(D, "hot", Value::from("v"), &SetOptions::default())
        .unwrap();
    warm(&s, "hot", 2_000, "plain");
}

// ---------------------------------------------------------------------------------------
// 4. Threads on one concurrent store: no torn or foreign value, exact INCR totals.
// ---------------------------------------------------------------------------------------

const STRESS_THREADS: usize = 4;
const STRESS_OPS: usize = 50_000;
const STRESS_KEYS: usize = 3_000;
const COUNTERS: usize = 8;

/// Stress key `i`: never empty (values repeat it), of several widths and lengths.
fn stress_keys() -> Vec<Vec<u8>> {
    key_pool(STRESS_KEYS + 1).split_off(1)
}

/// Keys whose index is a multiple of this take APPEND: their values are `key;` repeated (a
/// sealed value would not survive an append); the others hold sealed values.
const APPEND_EVERY: usize = 4;

/// Does stress key `i` take APPEND?
fn takes_append(i: usize) -> bool {
    i.is_multiple_of(APPEND_EVERY)
}

/// A sealed value of `key`: the writer's sequence number (8 bytes), `key` `reps` times, and an
/// FNV-1a checksum of all that (8 bytes).
fn sealed(key: &[u8], seq: u64, reps: usize) -> Vec<u8> {
    let mut v = seq.to_le_bytes().to_vec();
    for _ in 0..reps {
        v.extend_from_slice(key);
    }
    let sum = fnv(&v);
    v.extend_from_slice(&sum.to_le_bytes());
    v
}

/// `key;` `n` times: a value of an APPEND key.
fn units(key: &[u8], n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.extend_from_slice(key);
        v.push(b';');
    }
    v
}

/// Does `v` belong to stress key `i`, whole? A torn write, a value of another key or freed
/// memory fails one of the checks.
fn check_value(i: usize, key: &[u8], v: ValueRef<'_>) -> Result<(), String> {
    let ValueRef::Bytes(v) = v else {
        return Err(format!("key {i}: an integer value {v:?}"));
    };
    let ok = if takes_append(i) {
        let unit = key.len() + 1;
        !v.is_empty()
            && v.len() % unit == 0
            && v.chunks(unit)
                .all(|c| &c[..key.len()] == key && c[key.len()] == b';')
    } else {
        v.len() >= 16 && {
            let (body, sum) = v.split_at(v.len() - 8);
            let reps = &body[8..];
            fnv(body).to_le_bytes() == sum
                && reps.len() % key.len() == 0
                && reps.chunks(key.len()).all(|c| c == key)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key {i} ({key:?}): a value not its own ({} bytes): {v:?}",
            v.len()
        ))
    }
}

/// What one worker did, for the exact totals.
#[derive(Default)]
struct Tally {
    /// Reads that count as hits or misses (get, get_with, each key of an mget).
    reads: u64,
    /// Writes that count as sets (set, incr, append).
    writes: u64,
    /// Sum of the deltas each counter got.
    incr: [i64; COUNTERS],
}

/// One worker's mixed operations on the shared keys and counters.
fn worker(
    s: &Store,
    counters_ns: Ns,
    keys: &[Vec<u8>],
    counter_names: &[String],
    t: usize,
) -> Tally {
    let mut tally = Tally::default();
    let mut x = (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for n in 0..STRESS_OPS {
        let r = next();
        let i = (r >> 8) as usize % STRESS_KEYS;
        let key = keys[i].as_slice();
        let reps = 1 + (r >> 40) as usize % 24;
        let check = |v: ValueRef<'_>| check_value(i, key, v);
        match r % 16 {
            0..=3 => {
                let value = if takes_append(i) {
                    units(key, reps)
                } else {
                    sealed(key, ((t as u64) << 32) | n as u64, reps)
                };
                let opts = SetOptions {
                    ttl_ms: (r >> 60 == 0).then_some(1 + (r >> 32) % 50),
                    ..SetOptions::default()
                };
                s.set_ref((D, key), ValueRef::Bytes(&value), &opts).unwrap();
                tally.writes += 1;
            }
            4..=6 => {
                if let Some(v) = s.get(D, key) {
                    check(v.view()).unwrap();
                }
                tally.reads += 1;
            }
            7..=9 => {
                if let Some(checked) = s.get_with((D, key), check) {
                    checked.unwrap();
                }
                tally.reads += 1;
            }
            10 => {
                s.delete((D, key));
            }
            11 => {
                let c = (r >> 20) as usize % COUNTERS;
                let delta = 1 + (r >> 24) as i64 % 3;
                s.incr_by((counters_ns, counter_names[c].as_str()), delta)
                    .unwrap();
                tally.incr[c] += delta;
                tally.writes += 1;
            }
            12 if takes_append(i) => {
                let mut unit = key.to_vec();
                unit.push(b';');
                s.append(D, key, &unit).unwrap();
                tally.writes += 1;
            }
            12 | 13 => {
                if r >> 63 == 0 {
                    s.expire((D, key), 1 + (r >> 32) % 50);
                } else {
                    s.persist((D, key));
                }
            }
            14 => {
                let picked: Vec<usize> = (0..8).map(|j| (i + j * 97) % STRESS_KEYS).collect();
                let names: Vec<&[u8]> = picked.iter().map(|&j| keys[j].as_slice()).collect();
                for (j, v) in picked.iter().zip(s.mget(D, &names)) {
                    if let Some(v) = v {
                        check_value(*j, &keys[*j], v.view()).unwrap();
                    }
                }
                tally.reads += names.len() as u64;
            }
            _ => {
                // Not reads (no hit or miss counted): their answers must be consistent.
                match s.ttl((D, key)) {
                    Ttl::Remaining(ms) => assert!(ms <= 50, "key {i}: TTL {ms} ms"),
                    Ttl::Missing | Ttl::Persistent => {}
                }
                s.exists((D, key));
            }
        }
    }
    tally
}

/// One pass of the maintenance thread: shrink, reap, and a full SCANENTRIES walk of the keys'
/// namespace checking every value it copies out.
fn maintain(s: &Store, index: &HashMap<Vec<u8>, usize>) {
    s.shrink_tables();
    s.reap_expired();
    let mut cursor = 0;
    for _ in 0..100_000 {
        let (next, entries) = s.scan_entries(D, cursor, None, 64);
        for e in entries {
            let i = *index
                .get(&e.key)
                .unwrap_or_else(|| panic!("scan found a key never written: {:?}", e.key));
            check_value(i, &e.key, e.value.view()).unwrap();
        }
        cursor = next;
        if cursor == 0 {
            return;
        }
    }
    panic!("a scan did not finish");
}

/// Every live key of `ns`, by a full cursor SCAN of `count` per step (which must finish).
fn scanned(s: &Store, ns: Ns, count: usize) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = 0;
    for _ in 0..100_000 {
        let (next, keys) = s.scan_bytes(ns, cursor, None, count);
        seen.extend(keys);
        cursor = next;
        if cursor == 0 {
            return seen;
        }
    }
    panic!("a scan did not finish");
}

fn stress(shards: usize) {
    let (s, clock) = store(
        true,
        Config {
            shards,
            ..Config::default()
        },
    );
    let s = Arc::new(s);
    let counters_ns = s.namespace("counters").unwrap();
    let keys = Arc::new(stress_keys());
    let index: Arc<HashMap<Vec<u8>, usize>> = Arc::new(
        keys.iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect(),
    );
    let counter_names: Arc<Vec<String>> =
        Arc::new((0..COUNTERS).map(|c| format!("c\u{e9}{c}")).collect());
    let done = Arc::new(AtomicBool::new(false));
    // The clock moves 1 ms per maintenance pass, so TTLs of 1 to 50 ms run out meanwhile.
    let maintenance = {
        let (s, clock, index, done) = (s.clone(), clock.clone(), index.clone(), done.clone());
        std::thread::spawn(move || {
            let mut passes = 0u64;
            loop {
                clock.advance(1);
                maintain(&s, &index);
                passes += 1;
                if done.load(Ordering::Relaxed) {
                    return passes;
                }
            }
        })
    };
    let (tx, rx) = mpsc::channel();
    for t in 0..STRESS_THREADS {
        let (s, keys, names, tx) = (s.clone(), keys.clone(), counter_names.clone(), tx.clone());
        std::thread::spawn(move || {
            let tally = worker(&s, counters_ns, &keys, &names, t);
            tx.send(tally).unwrap();
        });
    }
    drop(tx);
    let mut total = Tally::default();
    for _ in 0..STRESS_THREADS {
        // A hang (deadlock) detector, not a timing assertion: a worker that panicked drops its
        // sender (Disconnected once all have); one stuck in a lock never answers.
        let tally = rx
            .recv_timeout(10 * HANG)
            .expect("every worker finishes: none panicked or hung");
        total.reads += tally.reads;
        total.writes += tally.writes;
        for c in 0..COUNTERS {
            total.incr[c] += tally.incr[c];
        }
    }
    done.store(true, Ordering::Relaxed);
    assert!(maintenance.join().unwrap() >= 1);

    let st = s.stats();
    assert_eq!(st.hits + st.misses, total.reads, "every read counted once");
    assert_eq!(
        st.sets, total.writes,
        "every set, incr and append counted once"
    );
    for (c, name) in counter_names.iter().enumerate() {
        assert_eq!(
            s.get(counters_ns, name.as_str()),
            Some(Value::Int(total.incr[c])),
            "counter {c}: every INCR from every thread counted once"
        );
    }
    // Expired entries count in total_len until reclaimed: reclaim them, then count.
    s.reap_expired();
    let found = scanned(&s, D, 64);
    for k in &found {
        let i = index[k];
        s.get_with((D, k.as_slice()), |v| check_value(i, k, v))
            .expect("a scanned key is live")
            .unwrap();
    }
    let listed: HashSet<Vec<u8>> = s.keys_bytes(D, b"*").into_iter().collect();
    assert_eq!(found, listed, "SCAN and KEYS agree");
    assert_eq!(scanned(&s, counters_ns, 64).len(), COUNTERS);
    assert_eq!(
        s.total_len(),
        found.len() + COUNTERS,
        "total_len is what a final scan finds"
    );
}

#[test]
fn threads_on_two_shards_see_only_whole_values_and_exact_totals() {
    stress(2);
}

#[test]
fn threads_on_the_default_shards_see_only_whole_values_and_exact_totals() {
    stress(Config::default().shards);
}

// ---------------------------------------------------------------------------------------
// 5. A panic inside a get_with closure releases the read.
// ---------------------------------------------------------------------------------------

/// Runs `f` on its own thread and waits for it: a hang detector (a writer that waits forever
/// for a read that was never released), not a timing assertion.
fn finishes<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} hung: a read left registered by a panicking get_with?")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

/// Key `i` of the panic test.
fn name(i: usize) -> String {
    format!("k{i}")
}

/// Writes `v` at key `i`.
fn put(s: &Store, i: usize, v: &str) {
    s.set(D, &name(i), Value::from(v), &SetOptions::default())
        .unwrap();
}

/// A `get_with` closure that panics.
fn boom(_: ValueRef<'_>) -> u8 {
    panic!("boom")
}

#[test]
fn a_panic_inside_get_with_releases_the_read() {
    const N: usize = 200;
    let (s, _clock) = store(
        true,
        Config {
            shards: 2,
            ..Config::default()
        },
    );
    let s = Arc::new(s);
    for i in 0..N {
        put(&s, i, "old");
    }
    // A panic on this thread, in reads of keys of both shards.
    for i in 0..N {
        let r = catch_unwind(AssertUnwindSafe(|| s.get_with((D, &name(i)), boom)));
        assert!(
            r.is_err(),
            "key {i}: the closure's panic reaches the caller"
        );
    }
    // And on a thread that then exits.
    let reader = s.clone();
    let r = std::thread::spawn(move || reader.get_with((D, "k0"), boom)).join();
    assert!(r.is_err());
    // Writers on another thread: overwrite every key, delete most, shrink the tables.
    let w = s.clone();
    let shrunk = finishes("the writer", move || {
        for i in 0..N {
            put(&w, i, "new");
        }
        for i in 10..N {
            assert!(w.delete((D, &name(i))), "key {i}");
        }
        w.shrink_tables()
    });
    assert!(shrunk > 0, "the deletes left tables to shrink");
    // A writer on the panicking thread itself.
    put(&s, 0, "newer");
    assert!(s.delete((D, "k1")));
    s.shrink_tables();
    // Reads go on as before, on this thread and another.
    assert_eq!(s.get(D, "k0"), Some(Value::from("newer")));
    assert_eq!(s.get(D, "k1"), None);
    for i in 2..10 {
        assert_eq!(s.get(D, &name(i)), Some(Value::from("new")), "key {i}");
        assert_eq!(
            s.get_with((D, &name(i)), |v| v.to_owned()),
            s.get(D, &name(i))
        );
    }
    let r = s.clone();
    let seen = finishes("a reader", move || {
        (2..10)
            .filter(|&i| r.get(D, &format!("k{i}")).is_some())
            .count()
    });
    assert_eq!(seen, 8);
    assert_eq!(s.total_len(), 9);
}
