//! A snapshot is never half-written: a daemon holding 200k keys is killed with SIGKILL at a
//! random moment during each of 100 saves (SAVE and BGSAVE alternately); after each kill the
//! snapshot on disk loads and equals either the previous save or the new one, key by key.
//!
//! Each iteration starts a daemon on the last snapshot (so the load at start is exercised 100
//! times too), bumps a generation key, asks for a save and kills the process after a random
//! delay drawn from the measured save time (seeded, so a run is reproducible up to timing).
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use daemon_support::DaemonProcess;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::time::{Duration, Instant};
use tinykv::store::{LoadValue, Store, ValueRef};

const KEYS: usize = 200_000;

fn value(i: usize) -> String {
    format!("value-{i:08}-{}", "x".repeat(i % 24))
}

/// The generation a snapshot holds, after checking every other entry is exactly the base set.
fn check(bytes: &[u8]) -> i64 {
    let input = tinykv::persist::parse(bytes, None).expect("the snapshot loads");
    let b = input.batch;
    assert_eq!(b.entries.len(), KEYS + 1, "entry count");
    let mut seen = vec![false; KEYS];
    let mut gen = None;
    for e in &b.entries {
        if &*e.key == b"gen" {
            gen = Some(match &e.value {
                LoadValue::Int(n) => *n,
                LoadValue::Bytes(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
            });
            continue;
        }
        let k = std::str::from_utf8(&e.key).unwrap();
        let i: usize = k.strip_prefix("k:").unwrap().parse().unwrap();
        assert!(!seen[i], "{k} twice");
        seen[i] = true;
        assert_eq!(
            e.value,
            LoadValue::Bytes(value(i).into_bytes().into()),
            "{k}"
        );
        assert_eq!(
            e.expires_at_ms,
            i.is_multiple_of(10).then_some(4_000_000_000_000),
            "{k}"
        );
    }
    gen.expect("gen key")
}

#[test]
fn sigkill_during_100_saves_never_leaves_a_half_written_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let s = snap.to_str().unwrap().to_string();
    // The base snapshot: 200k keys, a tenth with a TTL far in the future, gen = 0.
    let store = Store::new(tinykv::Config::default()).unwrap();
    let ns = store.namespace("default").unwrap();
    for i in 0..KEYS {
        let opts = tinykv::SetOptions {
            expire_at_ms: i.is_multiple_of(10).then_some(4_000_000_000_000),
            ..Default::default()
        };
        store
            .set_ref(
                (ns, &format!("k:{i}")),
                ValueRef::Bytes(value(i).as_bytes()),
                &opts,
            )
            .unwrap();
    }
    store
        .set_ref((ns, "gen"), ValueRef::Int(0), &Default::default())
        .unwrap();
    tinykv::persist::save(&store, &snap).unwrap();
    drop(store);

    let mut rng = rand::rngs::StdRng::seed_from_u64(18);
    let mut on_disk = 0i64;
    let mut save_time = Duration::ZERO;
    let (mut kept_old, mut got_new, mut mid_write) = (0, 0, 0);
    for round in 1..=100i64 {
        let mut d = DaemonProcess::start(&["--snapshot", &s]);
        let mut c = d.client();
        assert_eq!(c.cmd(&["SET", "gen", &round.to_string()]), "+OK\r\n");
        let cmd = if round % 2 == 0 { "BGSAVE" } else { "SAVE" };
        if round == 1 {
            // Calibrate: one save to completion, to spread the kills over a save's length.
            let t = Instant::now();
            assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
            save_time = t.elapsed();
            on_disk = check(&std::fs::read(&snap).unwrap());
            assert_eq!(on_disk, 1);
            assert_eq!(c.cmd(&["SET", "gen", "1"]), "+OK\r\n");
        }
        c.send(format!("*1\r\n${}\r\n{cmd}\r\n", cmd.len()).as_bytes());
        c.r.get_mut().flush().unwrap();
        let max = (save_time.as_micros() as u64 * 3 / 2).max(1);
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..max)));
        d.child.kill().unwrap(); // SIGKILL
        d.child.wait().unwrap();
        let temps = std::fs::read_dir(dir.path()).unwrap().filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with(".dump.snap.tmp-")
        });
        if temps.count() > 0 {
            mid_write += 1; // killed between creating the temporary file and the rename
        }
        let gen = check(&std::fs::read(&snap).unwrap());
        assert!(
            gen == on_disk || gen == round,
            "round {round}: gen {gen}, expected {on_disk} or {round}"
        );
        if gen == round {
            got_new += 1;
        } else {
            kept_old += 1;
        }
        on_disk = gen;
    }
    eprintln!(
        "100 kills ({mid_write} while the file was being written): {got_new} left the new save, \
         {kept_old} the previous one; every snapshot whole"
    );
}
