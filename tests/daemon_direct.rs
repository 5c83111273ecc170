//! The daemon answers GET and MGET straight from the store into the output buffer
//! (`server/connection/direct.rs`), a fast path beside `command::execute`. This property test
//! holds it to the plain path: for random stores (text, binary, empty and integer values,
//! keys of 1-4 byte characters) and random GET/MGET requests (any case, hits and misses, over
//! RESP2 and RESP3), the bytes the daemon sends are exactly `encode_reply(execute(...))`; and
//! under a small `--max-output-buffer`, a reply is that or, exactly when it is larger than the
//! cap, the too-large error.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).
mod daemon_support;

use std::io::Read;

use bytes::BytesMut;
use daemon_support::TestServer;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use tinykv::command::{execute, Session};
use tinykv::protocol::{encode_command, encode_reply, Resp};
use tinykv::server::ServerConfig;
use tinykv::store::{SetOptions, Value};

/// Keys drawn from a small pool, so requests hit and miss: ASCII, 2-, 3- and 4-byte characters,
/// and bytes that are not UTF-8.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "k[0-9]".prop_map(String::into_bytes),
        "é[0-3]".prop_map(String::into_bytes),
        "键[0-3]".prop_map(String::into_bytes),
        "😀[0-3]".prop_map(String::into_bytes),
        // Keys that are not UTF-8, as any Redis client may send.
        (0xF8u8..=0xFF, 0u8..4).prop_map(|(a, b)| vec![a, b]),
    ]
}

/// A stored value: text, bytes of any kind (including none), or an integer.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600).prop_map(Value::Bytes),
        "[a-zé😀]{0,40}".prop_map(|s| Value::Bytes(s.into_bytes())),
        any::<i64>().prop_map(Value::Int),
    ]
}

/// A GET or an MGET of 1-8 keys, its name in random case.
fn request() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let get = (key(), any::<u8>()).prop_map(|(k, case)| vec![cased("get", case), k]);
    let mget = (prop::collection::vec(key(), 1..8), any::<u8>()).prop_map(|(ks, case)| {
        let mut argv = vec![cased("mget", case)];
        argv.extend(ks);
        argv
    });
    prop_oneof![get, mget]
}

/// `name` with the letters whose bit is set in `mask` upper-cased.
fn cased(name: &str, mask: u8) -> Vec<u8> {
    name.bytes()
        .enumerate()
        .map(|(i, b)| {
            if mask >> i & 1 == 1 {
                b.to_ascii_uppercase()
            } else {
                b
            }
        })
        .collect()
}

/// Empties `store` and writes `entries` into its default namespace.
fn refill(store: &tinykv::Store, entries: &[(Vec<u8>, Value)]) {
    store.flush_all();
    for (k, v) in entries {
        store
            .set(tinykv::Ns::DEFAULT, k, v.clone(), &SetOptions::default())
            .unwrap();
    }
}

#[test]
fn get_and_mget_answer_byte_for_byte_what_the_command_path_answers() {
    let server = TestServer::start();
    let mut runner = TestRunner::new(PtConfig {
        cases: 96,
        ..PtConfig::default()
    });
    let case = (
        prop::collection::vec((key(), value()), 0..12),
        prop::collection::vec(request(), 1..16),
        any::<bool>(),
    );
    runner
        .run(&case, |(entries, requests, resp3)| {
            let store = &server.store;
            refill(store, &entries);
            let mut conn = server.unix_client();
            let proto = if resp3 {
                conn.cmd(&["HELLO", "3"]);
                Resp::V3
            } else {
                Resp::V2
            };
            let mut session = Session::default();
            for argv in &requests {
                let mut expected = BytesMut::new();
                encode_reply(&execute(store, &mut session, argv), proto, &mut expected);
                let mut req = BytesMut::new();
                encode_command(argv, &mut req);
                conn.send(&req);
                let mut got = vec![0; expected.len()];
                conn.r.read_exact(&mut got).unwrap();
                prop_assert_eq!(&got[..], &expected[..], "request {:?}", argv);
            }
            // Nothing more than the expected bytes was sent.
            let mut after = BytesMut::new();
            encode_reply(
                &execute(store, &mut session, &[b"PING".to_vec()]),
                proto,
                &mut after,
            );
            assert_eq!(conn.cmd(&["PING"]).as_bytes(), &after[..]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn under_an_output_cap_a_reply_is_the_plain_one_or_exactly_when_larger_the_error() {
    const CAP: usize = 2048;
    let server = TestServer::with_config(ServerConfig {
        max_output_buffer: CAP,
        ..ServerConfig::default()
    });
    let mut runner = TestRunner::new(PtConfig {
        cases: 64,
        ..PtConfig::default()
    });
    let big = prop::collection::vec(any::<u8>(), 0..1500).prop_map(Value::Bytes);
    let case = (
        prop::collection::vec((key(), big), 0..12),
        prop::collection::vec(request(), 1..12),
    );
    let too_big = b"-ERR reply exceeds maximum allowed size (max-output-buffer)\r\n";
    let (refused, served) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(&case, |(entries, requests)| {
            let store = &server.store;
            refill(store, &entries);
            let mut conn = server.unix_client();
            let mut session = Session::default();
            for argv in &requests {
                let mut plain = BytesMut::new();
                encode_reply(&execute(store, &mut session, argv), Resp::V2, &mut plain);
                let expected: &[u8] = if plain.len() > CAP {
                    refused.set(refused.get() + 1);
                    too_big
                } else {
                    served.set(served.get() + 1);
                    &plain
                };
                let mut req = BytesMut::new();
                encode_command(argv, &mut req);
                conn.send(&req);
                let mut got = vec![0; expected.len()];
                conn.r.read_exact(&mut got).unwrap();
                prop_assert_eq!(&got[..], expected, "request {:?}", argv);
            }
            Ok(())
        })
        .unwrap();
    // Both sides of the cap were crossed.
    let (refused, served) = (refused.get(), served.get());
    assert!(
        refused > 0 && served > 0,
        "refused {refused}, served {served}"
    );
}
