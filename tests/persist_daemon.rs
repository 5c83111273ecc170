//! Persistence through real daemon processes: every kind of value survives SAVE and a restart
//! and an export/import round trip (key by key, expiries within 1 s); redis-cli drives SAVE,
//! BGSAVE, LASTSAVE and INFO persistence; a save holds every write acknowledged before it began;
//! backup and restore; a snapshot of a newer format version stops the daemon from starting.
#![cfg(unix)] // Unix only: daemons on Unix sockets and SIGTERM.

mod daemon_support;
mod persist_support;

use daemon_support::DaemonProcess;
use persist_support::*;
use std::process::Command;

fn redis_cli(port: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", port])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "redis-cli {args:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn info_field(port: &str, field: &str) -> String {
    let info = redis_cli(port, &["INFO", "persistence"]);
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")));
    line.unwrap_or_else(|| panic!("no {field} in {info}"))
        .trim()
        .to_string()
}

fn wait_bgsave(port: &str) {
    for _ in 0..2000 {
        if info_field(port, "rdb_bgsave_in_progress") == "0" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("BGSAVE did not finish");
}

#[test]
fn every_kind_survives_save_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let snap_arg = snap.to_str().unwrap();
    let d = DaemonProcess::start(&["--snapshot", snap_arg]);
    let want = write_every_kind(d.tcp);
    // One more key whose expiry passes between the save and the restart.
    let due = tinykv::persist::wall_ms() + 1500;
    redis_cli(&port(d.tcp), &["SET", "due", "x", "PXAT", &due.to_string()]);
    assert_eq!(redis_cli(&port(d.tcp), &["SAVE"]), "OK");
    assert_eq!(entries_in(&snap), 15, "the due key is in the snapshot");
    drop(d); // SIGKILL: only what SAVE wrote can come back
    while tinykv::persist::wall_ms() <= due {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let d = DaemonProcess::start(&["--snapshot", snap_arg]);
    assert!(d.wait_log("snapshot loaded: 14 keys, 1 skipped (expired)"));
    assert_same(&dump(d.tcp), &want);
    // A loaded counter is still a counter.
    assert_eq!(redis_cli(&port(d.tcp), &["INCR", "counter"]), "43");
}

#[test]
fn every_kind_survives_export_and_import() {
    let a = DaemonProcess::start(&[]);
    let b = DaemonProcess::start(&[]);
    let want = write_every_kind(a.tcp);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.jsonl");
    let f = file.to_str().unwrap();
    let out = tinykv(&["export", "-p", &port(a.tcp), "-o", f]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // Off a terminal no progress bar is drawn: one summary line, no escape codes.
    assert!(err.starts_with("tinykv export: 14 keys in "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{err:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 14);
    // Entries past their expiry are skipped and counted.
    let mut with_past = text.clone();
    with_past.push_str("{\"key\":\"gone\",\"value\":\"x\",\"expiresAt\":1000}\n");
    std::fs::write(&file, with_past).unwrap();
    let out = tinykv(&["import", f, "-p", &port(b.tcp)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("14 keys loaded, 1 skipped (expired)"), "{err}");
    assert_same(&dump(b.tcp), &want);
    // A second import of the same file is refused whole; --skip-existing and --replace pass.
    let out = tinykv(&["import", f, "-p", &port(b.tcp)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("line 1: key") && err.contains("already exists"),
        "{err}"
    );
    let out = tinykv(&["import", f, "-p", &port(b.tcp), "--skip-existing"]);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("0 keys loaded, 1 skipped (expired), 14 skipped (existing)"));
    redis_cli(&port(b.tcp), &["SET", "text", "changed"]);
    let out = tinykv(&["import", f, "-p", &port(b.tcp), "--replace"]);
    assert!(out.status.success());
    assert_same(&dump(b.tcp), &want);
    // --namespace on export keeps one namespace; --pattern filters keys.
    let out = tinykv(&[
        "export",
        "-p",
        &port(a.tcp),
        "--namespace",
        "sessions",
        "--pattern",
        "user:1",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(
            "{\"key\":\"user:1\",\"value\":\"{\\\"id\\\":1}\",\"ns\":\"sessions\",\"expiresAt\":"
        ),
        "{text}"
    );
}

#[test]
fn redis_cli_drives_save_bgsave_lastsave_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let d = DaemonProcess::start(&["--snapshot", snap.to_str().unwrap()]);
    let p = port(d.tcp);
    let started: i64 = redis_cli(&p, &["LASTSAVE"]).parse().unwrap();
    redis_cli(&p, &["SET", "a", "1"]);
    assert_eq!(info_field(&p, "rdb_changes_since_last_save"), "1");
    assert_eq!(redis_cli(&p, &["SAVE"]), "OK");
    assert!(snap.exists());
    assert_eq!(info_field(&p, "rdb_changes_since_last_save"), "0");
    let after: i64 = redis_cli(&p, &["LASTSAVE"]).parse().unwrap();
    assert!(after >= started);
    redis_cli(&p, &["SET", "b", "2"]);
    assert_eq!(redis_cli(&p, &["BGSAVE"]), "Background saving started");
    wait_bgsave(&p);
    assert_eq!(info_field(&p, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&p, "rdb_saves"), "2");
    assert_eq!(info_field(&p, "rdb_changes_since_last_save"), "0");
    assert_eq!(entries_in(&snap), 2);
    assert_eq!(redis_cli(&p, &["BGSAVE", "NOW"]), "ERR syntax error");
    // Without --snapshot there is nothing to save to, and the error says how to get one.
    let plain = DaemonProcess::start(&[]);
    let e = redis_cli(&port(plain.tcp), &["SAVE"]);
    assert!(e.contains("--snapshot FILE"), "{e}");
}

#[test]
fn a_save_holds_every_write_acknowledged_before_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let d = DaemonProcess::start(&["--snapshot", snap.to_str().unwrap()]);
    let p = port(d.tcp);
    // 50k keys so the BGSAVE walk takes a while, a writer that keeps writing through it.
    let mut c = client(d.tcp);
    let reqs: Vec<Vec<Vec<u8>>> = (0..50_000)
        .map(|i| {
            vec![
                b"SET".to_vec(),
                format!("base:{i}").into_bytes(),
                vec![b'x'; 64],
            ]
        })
        .collect();
    for chunk in reqs.chunks(1000) {
        c.pipeline(chunk).unwrap();
    }
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (a2, s2, addr) = (acked.clone(), stop.clone(), d.tcp);
    let writer = std::thread::spawn(move || {
        let mut w = client(addr);
        let mut i = 0u64;
        while !s2.load(std::sync::atomic::Ordering::Acquire) {
            i += 1;
            w.request(&[
                b"SET".to_vec(),
                format!("w:{i}").into_bytes(),
                b"v".to_vec(),
            ])
            .unwrap();
            a2.store(i, std::sync::atomic::Ordering::Release);
        }
    });
    while acked.load(std::sync::atomic::Ordering::Acquire) < 100 {
        std::thread::yield_now();
    }
    let before = acked.load(std::sync::atomic::Ordering::Acquire);
    assert_eq!(redis_cli(&p, &["BGSAVE"]), "Background saving started");
    wait_bgsave(&p);
    stop.store(true, std::sync::atomic::Ordering::Release);
    writer.join().unwrap();
    let bytes = std::fs::read(&snap).unwrap();
    let batch = tinykv::persist::parse(&bytes, None).unwrap().batch;
    let keys: std::collections::HashSet<&[u8]> = batch.entries.iter().map(|e| &*e.key).collect();
    for i in 0..50_000 {
        assert!(
            keys.contains(format!("base:{i}").as_bytes()),
            "base:{i} missing"
        );
    }
    for i in 1..=before {
        assert!(
            keys.contains(format!("w:{i}").as_bytes()),
            "w:{i} acknowledged before BGSAVE, missing"
        );
    }
}

#[test]
fn backup_and_restore() {
    let a = DaemonProcess::start(&[]);
    let b = DaemonProcess::start(&[]);
    let want = write_every_kind(a.tcp);
    let dir = tempfile::tempdir().unwrap();
    let out = tinykv(&[
        "backup",
        "-p",
        &port(a.tcp),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        path.contains("/tinykv-") && path.ends_with("Z.snapshot"),
        "{path}"
    );
    let sum = std::fs::read_to_string(format!("{path}.sha256")).unwrap();
    let check = Command::new("sha256sum")
        .arg("-c")
        .arg(format!("{path}.sha256"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(check.status.success(), "{sum}");
    let out = tinykv(&["restore", &path, "-p", &port(b.tcp)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same(&dump(b.tcp), &want);
    // A damaged backup is refused before anything is written.
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    redis_cli(&port(b.tcp), &["FLUSHALL"]);
    let out = tinykv(&["restore", &path, "-p", &port(b.tcp)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("SHA-256 does not match"), "{err}");
    std::fs::remove_file(format!("{path}.sha256")).unwrap();
    let out = tinykv(&["restore", &path, "-p", &port(b.tcp)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert_eq!(redis_cli(&port(b.tcp), &["DBSIZE"]), "0");
}

#[test]
fn a_newer_snapshot_version_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let mut w = tinykv::persist::snapshot::Writer::new();
    let ns = w.namespace("default");
    w.push(ns, b"k", tinykv::store::ValueRef::Bytes(b"v"), None);
    let mut bytes = w.finish(0).parts().concat();
    bytes[8] = 9;
    std::fs::write(&snap, &bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tinykv"))
        .args(["serve", "--socket"])
        .arg(dir.path().join("s.sock"))
        .args(["--snapshot", snap.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("snapshot format version 9 is newer than this TinyKV reads (up to 1)"),
        "{err}"
    );
}

#[test]
fn save_on_shutdown_and_interval() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let s = snap.to_str().unwrap();
    let mut d = DaemonProcess::start(&["--snapshot", s, "--save-on-shutdown"]);
    redis_cli(&port(d.tcp), &["SET", "kept", "1"]);
    // SIGTERM: a graceful shutdown, which saves.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
    assert!(d.child.wait().unwrap().success());
    assert_eq!(entries_in(&snap), 1);
    // --save-interval saves in the background once something changed.
    let d = DaemonProcess::start(&["--snapshot", s, "--save-interval", "1"]);
    redis_cli(&port(d.tcp), &["SET", "second", "2"]);
    assert!(d.wait_log("snapshot saved"), "no periodic save within 10 s");
    wait_bgsave(&port(d.tcp));
    assert_eq!(entries_in(&snap), 2);
    drop(d);
    // SHUTDOWN NOSAVE skips the shutdown save; SHUTDOWN SAVE makes one without the flag.
    let mut d = DaemonProcess::start(&["--snapshot", s, "--save-on-shutdown"]);
    redis_cli(&port(d.tcp), &["SET", "third", "3"]);
    let _ = Command::new("redis-cli")
        .args(["-p", &port(d.tcp), "SHUTDOWN", "NOSAVE"])
        .output();
    d.child.wait().unwrap();
    assert_eq!(entries_in(&snap), 2);
    let mut d = DaemonProcess::start(&["--snapshot", s]);
    redis_cli(&port(d.tcp), &["SET", "third", "3"]);
    let _ = Command::new("redis-cli")
        .args(["-p", &port(d.tcp), "SHUTDOWN", "SAVE"])
        .output();
    d.child.wait().unwrap();
    assert_eq!(entries_in(&snap), 3);
}

#[test]
fn the_snapshot_is_in_before_readyz_or_any_client_is_answered() {
    const N: usize = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dump.snap");
    let store = tinykv::Store::new(tinykv::Config::default()).unwrap();
    let ns = store.namespace("default").unwrap();
    for i in 0..N {
        let v = tinykv::store::ValueRef::Bytes(b"0123456789abcdef");
        store
            .set_ref((ns, &format!("k:{i}")), v, &Default::default())
            .unwrap();
    }
    tinykv::persist::save(&store, &snap).unwrap();
    drop(store);
    // A free port for the HTTP endpoint (bound and released here).
    let metrics = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let addr = metrics.to_string();
    let d = DaemonProcess::start(&[
        "--snapshot",
        snap.to_str().unwrap(),
        "--metrics-addr",
        &addr,
    ]);
    // Asked while the load may still run: the first answers must already see every key.
    let mut c = d.client();
    c.send(b"*1\r\n$6\r\nDBSIZE\r\n");
    let status = (0..500)
        .find_map(|_| {
            if std::net::TcpStream::connect(metrics).is_ok() {
                return Some(daemon_support::http(metrics, "GET", "/readyz").0);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
            None
        })
        .expect("the HTTP endpoint is bound");
    assert_eq!(c.reply(), format!(":{N}\r\n"));
    assert_eq!(status, 200);
    assert_eq!(redis_cli(&port(d.tcp), &["DBSIZE"]), N.to_string());
}

#[test]
fn an_import_a_noeviction_daemon_cannot_hold_is_undone() {
    let d = DaemonProcess::start(&["--max-entries", "10", "--eviction-policy", "noeviction"]);
    let p = port(d.tcp);
    for i in 0..5 {
        redis_cli(&p, &["SET", &format!("old{i}"), "before"]);
    }
    redis_cli(&p, &["PEXPIRE", "old0", "600000"]);
    // Replaces old0 and adds 19 keys: only 5 fit. Split across two namespaces and batches.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.jsonl");
    let mut text = String::from("{\"key\":\"old0\",\"value\":\"after\"}\n");
    for i in 0..19 {
        let ns = if i % 2 == 0 { "" } else { ",\"ns\":\"other\"" };
        text.push_str(&format!("{{\"key\":\"new{i}\",\"value\":\"n\"{ns}}}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let out = tinykv(&["import", file.to_str().unwrap(), "-p", &p, "--replace"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("OOM") && err.contains("undone"), "{err}");
    assert_eq!(redis_cli(&p, &["DBSIZE"]), "5");
    assert_eq!(redis_cli(&p, &["GET", "old0"]), "before");
    let ttl: i64 = redis_cli(&p, &["PTTL", "old0"]).parse().unwrap();
    assert!(ttl > 590_000, "old0's TTL came back: {ttl}");
    assert_eq!(redis_cli(&p, &["NAMESPACES"]), "default\n5");
}
