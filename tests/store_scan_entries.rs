//! SCANENTRIES, the fast path `tinykv migrate` reads a daemon by, against the plain path it
//! replaces (SCAN, then GET and PEXPIRETIME per key): for any set of keys of every character
//! width and raw bytes, integer and byte values, TTLs live, absent and passed, several
//! namespaces, any COUNT (1 up past the table's buckets) and MATCH pattern, both walks give the
//! same entries, and those are exactly the live keys the pattern matches.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use tinykv::command::{execute, Reply, Session};
use tinykv::store::*;

/// Key -> (value, PEXPIRETIME's answer).
type Walked = BTreeMap<Vec<u8>, (Vec<u8>, i64)>;

/// What one namespace should hold: key -> (value, absolute expiry).
type Model = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

const NAMESPACES: [&str; 3] = ["0", "tenant-é", "😀"];

fn store() -> (Store, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = Config {
        reaper_interval_ms: 0,
        shards: 4,
        ..Config::default()
    };
    (Store::with_clock(config, clock.clone()).unwrap(), clock)
}

fn run(s: &Store, session: &mut Session, argv: &[&[u8]]) -> Reply {
    execute(s, session, argv)
}

fn bulk(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b.clone(),
        other => panic!("not a bulk string: {other:?}"),
    }
}

/// Walks `ns` to cursor 0 with `cmd` (SCAN or SCANENTRIES), giving the reply of each step.
fn steps(
    s: &Store,
    session: &mut Session,
    cmd: &str,
    count: usize,
    pattern: Option<&[u8]>,
) -> Vec<Vec<Reply>> {
    let mut cursor = b"0".to_vec();
    let mut out = Vec::new();
    let count = count.to_string();
    loop {
        let mut argv: Vec<&[u8]> = vec![cmd.as_bytes(), &cursor, b"COUNT", count.as_bytes()];
        if let Some(p) = pattern {
            argv.extend([b"MATCH".as_slice(), p]);
        }
        let Reply::Array(parts) = run(s, session, &argv) else {
            panic!("{cmd}: not an array")
        };
        let [next, Reply::Array(items)] = &parts[..] else {
            panic!("{cmd}: {parts:?}")
        };
        out.push(items.clone());
        cursor = bulk(next);
        if cursor == b"0" {
            return out;
        }
    }
}

fn fast(s: &Store, session: &mut Session, count: usize, pattern: Option<&[u8]>) -> Walked {
    let mut got = Walked::new();
    for items in steps(s, session, "SCANENTRIES", count, pattern) {
        assert_eq!(items.len() % 3, 0, "flat key, value, expiry triples");
        for t in items.chunks(3) {
            let Reply::Int(at) = t[2] else {
                panic!("expiry not an integer: {:?}", t[2])
            };
            got.insert(bulk(&t[0]), (bulk(&t[1]), at));
        }
    }
    got
}

fn plain(s: &Store, session: &mut Session, count: usize, pattern: Option<&[u8]>) -> Walked {
    let mut got = Walked::new();
    for items in steps(s, session, "SCAN", count, pattern) {
        for k in items {
            let k = bulk(&k);
            let v = bulk(&run(s, session, &[b"GET", &k]));
            let Reply::Int(at) = run(s, session, &[b"PEXPIRETIME", &k]) else {
                panic!("PEXPIRETIME not an integer")
            };
            got.insert(k, (v, at));
        }
    }
    got
}

/// Keys drawn from 1-4 byte characters and raw bytes that are not UTF-8.
fn key() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"a".to_vec()),
        Just(b"k:".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just("中".as_bytes().to_vec()),
        Just("😀".as_bytes().to_vec()),
        Just(vec![0xff, 0x00]),
        Just(b"*?[".to_vec()),
    ];
    prop::collection::vec(piece, 1..6).prop_map(|p| p.concat())
}

/// A value: an integer (stored as one) or bytes of any width.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..40),
        "[a-zé中😀]{0,12}".prop_map(String::into_bytes),
    ]
}

/// No TTL, a TTL that will have passed when the walk runs, or one still running.
fn ttl() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        Just(None),
        (1u64..500).prop_map(Some),
        (1_000u64..100_000).prop_map(Some)
    ]
}

fn pattern() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(b"a*".to_vec())),
        Just(Some("*😀*".as_bytes().to_vec())),
        Just(Some(b"?".to_vec())),
        Just(Some(b"*\\*?*".to_vec())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scanentries_gives_what_scan_get_and_pexpiretime_give(
        entries in prop::collection::vec((0..NAMESPACES.len(), key(), value(), ttl()), 0..300),
        count in prop_oneof![Just(1usize), Just(3), Just(10), Just(64), Just(1000), Just(100_000)],
        pattern in pattern(),
    ) {
        let (s, clock) = store();
        let mut session = Session::default();
        // The last write of a key wins, as in the store.
        let mut model: Vec<Model> = vec![Model::new(); NAMESPACES.len()];
        for (ns, k, v, ttl) in &entries {
            session.select(&s, NAMESPACES[*ns]).unwrap();
            let px = ttl.map(|t| t.to_string());
            let mut argv: Vec<&[u8]> = vec![b"SET", k, v];
            if let Some(px) = &px {
                argv.extend([b"PX".as_slice(), px.as_bytes()]);
            }
            prop_assert_eq!(run(&s, &mut session, &argv), Reply::Simple("OK".into()));
            model[*ns].insert(k.clone(), (v.clone(), ttl.map(|t| 1_000_000 + t)));
        }
        clock.advance(500);
        for (ns, name) in NAMESPACES.iter().enumerate() {
            session.select(&s, name).unwrap();
            let p = pattern.as_deref();
            let fast = fast(&s, &mut session, count, p);
            let plain = plain(&s, &mut session, count, p);
            prop_assert_eq!(&fast, &plain, "namespace {}", name);
            let want: Walked = model[ns]
                .iter()
                .filter(|(_, (_, at))| at.is_none_or(|at| at > 1_000_500))
                .filter(|(k, _)| p.is_none_or(|p| glob_match(p, k)))
                .map(|(k, (v, at))| (k.clone(), (v.clone(), at.map_or(-1, |at| at as i64))))
                .collect();
            prop_assert_eq!(&fast, &want, "namespace {}", name);
        }
    }
}

/// Redis's glob, through the store's own KEYS (the plain path's matcher).
fn glob_match(pattern: &[u8], key: &[u8]) -> bool {
    let (s, _) = store();
    s.set(Ns::DEFAULT, key, Value::Int(0), &SetOptions::default())
        .unwrap();
    !s.keys_bytes(Ns::DEFAULT, pattern).is_empty()
}

#[test]
fn scanentries_refuses_type_and_bad_arguments_as_scan_does() {
    let (s, _) = store();
    let mut session = Session::default();
    for argv in [
        &[b"SCANENTRIES".as_slice(), b"0", b"TYPE", b"string"][..],
        &[b"SCANENTRIES", b"0", b"COUNT", b"0"],
        &[b"SCANENTRIES", b"0", b"COUNT"],
        &[b"SCANENTRIES", b"x"],
        &[b"SCANENTRIES"],
    ] {
        assert!(
            matches!(run(&s, &mut session, argv), Reply::Error(_)),
            "{argv:?} should be an error"
        );
    }
}
