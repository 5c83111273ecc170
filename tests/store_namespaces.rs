//! Namespace ids are reused once a namespace has no keys and no holders (SELECT sessions,
//! `acquire_namespace` guards), never while either remains; names that could forge INFO or
//! CLIENT LIST lines are refused.

use std::sync::Arc;
use tinykv::command::{execute, Reply, Session};
use tinykv::store::*;

fn store() -> Store {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = Config {
        reaper_interval_ms: 0,
        ..Config::default()
    };
    Store::with_clock(config, clock).unwrap()
}

fn run(s: &Store, session: &mut Session, argv: &[&[u8]]) -> Reply {
    execute(s, session, argv)
}

fn set(s: &Store, ns: Ns, key: &str, v: &str) {
    let v = Value::Bytes(v.as_bytes().to_vec());
    s.set(ns, key, v, &SetOptions::default()).unwrap();
}

#[test]
fn selecting_more_new_names_than_there_are_ids_keeps_working() {
    let s = store();
    let mut session = Session::default();
    for i in 0..MAX_NAMESPACES + 10 {
        let name = format!("user:{i}");
        let reply = run(&s, &mut session, &[b"SELECT", name.as_bytes()]);
        assert_eq!(reply, Reply::ok(), "SELECT {name}");
    }
    // Only the default and the selected one are registered.
    assert_eq!(
        s.namespace_name(session.ns),
        format!("user:{}", MAX_NAMESPACES + 9)
    );
    assert_eq!(run(&s, &mut session, &[b"SET", b"k", b"v"]), Reply::ok());
    assert_eq!(run(&s, &mut session, &[b"SELECT", b"other"]), Reply::ok());
    assert_ne!(s.namespace_name(session.ns), "");
}

#[test]
fn a_namespace_with_keys_keeps_its_id_until_its_last_key_goes() {
    let s = store();
    let g = s.acquire_namespace("a").unwrap();
    let a = g.ns();
    set(&s, a, "k1", "x");
    set(&s, a, "k2", "y");
    drop(g);
    assert_eq!(s.namespace_name(a), "a", "keys remain: the id stays");
    let b = s.acquire_namespace("b").unwrap();
    assert_ne!(b.ns(), a);
    // Re-acquiring finds the same id and its keys.
    let again = s.acquire_namespace("a").unwrap();
    assert_eq!(again.ns(), a);
    assert_eq!(s.len(a), 2);
    drop(again);
    assert!(s.delete((a, "k1")));
    assert_eq!(s.namespace_name(a), "a");
    assert!(s.delete((a, "k2")));
    assert_eq!(s.namespace_name(a), "", "last key gone, no holder: freed");
    let c = s.acquire_namespace("c").unwrap();
    assert_eq!(c.ns(), a, "the freed id is reused");
    assert!(s.is_empty(c.ns()));
    assert_eq!(s.get(c.ns(), "k1"), None);
    // While held, a namespace that empties keeps its id.
    set(&s, c.ns(), "k", "v");
    assert!(s.delete((c.ns(), "k")));
    assert_eq!(s.namespace_name(c.ns()), "c");
}

#[test]
fn flushall_frees_the_ids_of_namespaces_no_one_holds() {
    let s = store();
    // Fill every id with a namespace holding one key, holding none of them.
    for i in 1..MAX_NAMESPACES {
        let g = s.acquire_namespace(&format!("n{i}")).unwrap();
        set(&s, g.ns(), "k", "v");
    }
    let held = s.acquire_namespace("n1").unwrap();
    let err = s.acquire_namespace("one-too-many").unwrap_err();
    assert!(err.to_string().contains("too many namespaces"), "{err}");
    let mut session = Session::default();
    assert_eq!(run(&s, &mut session, &[b"FLUSHALL"]), Reply::ok());
    assert_eq!(s.total_len(), 0);
    let fresh = s.acquire_namespace("one-too-many").unwrap();
    assert_ne!(fresh.ns(), held.ns());
    assert_eq!(s.namespace_name(held.ns()), "n1", "still held");
}

#[test]
fn a_session_releases_its_namespace_when_dropped_or_switching() {
    let s = store();
    let mut session = Session::default();
    assert_eq!(run(&s, &mut session, &[b"SELECT", b"tmp"]), Reply::ok());
    let tmp = session.ns;
    assert_eq!(run(&s, &mut session, &[b"SET", b"k", b"v"]), Reply::ok());
    assert_eq!(run(&s, &mut session, &[b"DEL", b"k"]), Reply::Int(1));
    assert_eq!(s.namespace_name(tmp), "tmp", "held by the session");
    let copy = session.clone();
    assert_eq!(run(&s, &mut session, &[b"SELECT", b"default"]), Reply::ok());
    assert_eq!(s.namespace_name(tmp), "tmp", "held by the clone");
    drop(copy);
    assert_eq!(s.namespace_name(tmp), "");
    let mut other = Session::default();
    assert_eq!(run(&s, &mut other, &[b"SELECT", b"gone"]), Reply::ok());
    let gone = other.ns;
    drop(other);
    assert_eq!(s.namespace_name(gone), "");
}

/// Threads acquire names from a small pool, write and check keys, and release, while the ids
/// of the names nobody holds are freed and reused: a key is never seen under another name.
#[test]
fn ids_are_never_reused_while_held_under_contention() {
    let s = Arc::new(store());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..3_000 {
                    let name = format!("pool{}", (i * 7 + t) % 6);
                    let g = s.acquire_namespace(&name).unwrap();
                    let key = format!("t{t}");
                    set(&s, g.ns(), &key, &name);
                    assert_eq!(s.namespace_name(g.ns()), name);
                    for k in s.keys(g.ns(), "*") {
                        if let Some(v) = s.get(g.ns(), &k) {
                            assert_eq!(v, Value::Bytes(name.clone().into_bytes()), "{k}");
                        }
                    }
                    if i % 2 == 0 {
                        s.delete((g.ns(), &key));
                    }
                    drop(g);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for (name, keys) in s.stats().namespaces.iter().map(|n| (&n.name, n.keys)) {
        assert!(keys > 0, "{name} listed with no keys");
    }
}

#[test]
fn names_that_would_forge_info_or_client_list_lines_are_refused() {
    let s = store();
    for bad in ["a\r\ndb1:keys=9", "a b", "tab\there", "nul\0", ""] {
        let e = s.acquire_namespace(bad).unwrap_err();
        assert!(matches!(e, Error::InvalidNamespace(_)), "{bad:?}: {e:?}");
        assert!(s.namespace(bad).is_err(), "{bad:?}");
    }
    let long = "x".repeat(MAX_NAMESPACE_LEN + 1);
    assert!(matches!(
        s.acquire_namespace(&long),
        Err(Error::InvalidNamespace(_))
    ));
    let mut session = Session::default();
    let reply = run(&s, &mut session, &[b"SELECT", b"evil\r\nrole:master"]);
    assert_eq!(
        reply,
        Reply::Error(
            "ERR invalid namespace name: a namespace name must not contain spaces or control \
             characters (found U+000D at byte 4)"
                .into()
        )
    );
    assert_eq!(session.ns_name, "default", "the session stays where it was");
    assert_eq!(run(&s, &mut session, &[b"SELECT", b"user:42"]), Reply::ok());
}
