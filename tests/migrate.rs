//! `tinykv migrate`, the shipped binary, from a real daemon (on a temp Unix socket) into a real
//! redis-server, a 3-master Redis Cluster, PostgreSQL and SQLite, each started here on loopback;
//! every value kind, TTL and namespace compared key by key afterwards, plus the dry run,
//! conflicts, bad targets, per-key failures and kill-and-rerun.
#![cfg(unix)] // Unix only: daemons on Unix sockets, and PostgreSQL run as another user.

mod daemon_support;
mod migrate_support;

use daemon_support::TestServer;
use migrate_support::{Cluster, Postgres, Redis};
use redis::Commands;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;
use tinykv::server::ServerConfig;
use tinykv::store::{Config, SetOptions, Store, Value};

const BIN: &str = env!("CARGO_BIN_EXE_tinykv");

/// (namespace, key) -> (value bytes, absolute expiry ms).
type Expected = BTreeMap<(String, Vec<u8>), (Vec<u8>, Option<u64>)>;

/// A daemon holding every kind of value in three namespaces, and what it holds.
fn source() -> (TestServer, Expected) {
    let store = Arc::new(Store::new(Config::default()).unwrap());
    let mut want = Expected::new();
    let mut put = |ns_name: &str, key: &[u8], value: Value, ttl: Option<u64>| {
        let ns = if ns_name == "default" {
            tinykv::Ns::DEFAULT
        } else {
            store.namespace(ns_name).unwrap()
        };
        let opts = SetOptions {
            ttl_ms: ttl,
            ..SetOptions::default()
        };
        let bytes = value.to_bytes();
        store.set(ns, key, value, &opts).unwrap();
        // Expiries travel to the ms: take each from the daemon's own answer.
        let at = ttl.map(|_| expiry_of(&store, ns_name, key));
        want.insert((ns_name.to_string(), key.to_vec()), (bytes, at));
    };
    put("default", b"text", "hello world".into(), None);
    put(
        "default",
        b"\xff\xfe binary key",
        vec![0, 1, 0xff].into(),
        None,
    );
    put("default", b"counter", Value::Int(-42), None);
    put("default", b"empty", "".into(), None);
    // Looks like a key of namespace sessions once on Redis: the report warns of it.
    put("default", b"sessions:legacy", "old".into(), None);
    put(
        "default",
        b"big",
        vec![b'x'; 512 * 1024].into(),
        Some(3_600_000),
    );
    put("default", "ünï:ключ:🙂".as_bytes(), "✓".into(), None);
    for i in 0..300 {
        let ttl = (i % 3 == 0).then_some(600_000 + i as u64);
        put(
            "default",
            format!("k{i}").as_bytes(),
            format!("v{i}").into(),
            ttl,
        );
    }
    for i in 0..100 {
        let ttl = (i % 2 == 0).then_some(60_000);
        put(
            "sessions",
            format!("s{i}").as_bytes(),
            format!("{{\"u\":{i}}}").into(),
            ttl,
        );
    }
    put("tenant-ä", b"x", Value::Int(7), Some(120_000));
    (TestServer::with_store(ServerConfig::default(), store), want)
}

/// The absolute expiry of a key, as the daemon reports it (PEXPIRETIME).
fn expiry_of(store: &Store, ns: &str, key: &[u8]) -> u64 {
    let mut session = tinykv::command::Session::default();
    let select: [&[u8]; 2] = [
        b"SELECT",
        if ns == "default" { b"0" } else { ns.as_bytes() },
    ];
    tinykv::command::execute(store, &mut session, &select);
    match tinykv::command::execute(store, &mut session, &[&b"PEXPIRETIME"[..], key]) {
        tinykv::command::Reply::Int(at) if at > 0 => at as u64,
        other => panic!("PEXPIRETIME: {other:?}"),
    }
}

fn migrate(src: &TestServer, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("migrate")
        .arg("-s")
        .arg(&src.sock)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "migrate failed ({:?}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The key an entry has on Redis.
fn redis_key(ns: &str, key: &[u8]) -> Vec<u8> {
    tinykv::migrate::redis_key(ns, key, ":")
}

/// Every row of a SQLite target's table, read with rusqlite.
fn sqlite_rows(db: &std::path::Path) -> Expected {
    let con = rusqlite::Connection::open(db).unwrap();
    let mut stmt = con
        .prepare("SELECT namespace, key, value, expires_at FROM tinykv_entries")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let at: Option<i64> = r.get(3)?;
            Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, at.map(|a| a as u64))))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// Fails naming only the entries that differ between what a target holds and what is wanted.
fn assert_same(got: &Expected, want: &Expected, what: &str) {
    let short = |k: &(String, Vec<u8>)| format!("{}/{}", k.0, String::from_utf8_lossy(&k.1));
    let missing: Vec<String> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .map(short)
        .collect();
    let extra: Vec<String> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(short)
        .collect();
    let differ: Vec<String> = want
        .iter()
        .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
        .map(|(k, v)| format!("{}: want expiry {:?}, got {:?}", short(k), v.1, got[k].1))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "{what}: missing {missing:?}, extra {extra:?}, differ {differ:?}"
    );
}

fn report(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_kind_reaches_redis_with_its_absolute_ttl() {
    let (src, want) = source();
    let redis = Redis::start(None);
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("report.json");
    let out = ok(&migrate(
        &src,
        &[
            "--to",
            &redis.url(),
            "--verify",
            "all",
            "--report",
            rep.to_str().unwrap(),
        ],
    ));
    assert!(
        out.contains(&format!("wrote {n} of {n} keys", n = want.len())),
        "{out}"
    );
    let r = report(&rep);
    assert_eq!(r["total"]["written"], want.len());
    assert_eq!(r["verify"]["checked"], want.len());
    assert_eq!(r["verify"]["mismatched"], 0);
    assert_eq!(r["namespaces"]["sessions"]["written"], 100);
    assert_eq!(r["ok"], true);
    let warnings = r["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with("1 key(s) of the default namespace start with 'sessions:'"));

    let mut con = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, want.len());
    for ((ns, key), (value, at)) in &want {
        let k = redis_key(ns, key);
        let got: Option<Vec<u8>> = con.get(&k).unwrap();
        assert_eq!(got.as_ref(), Some(value), "{ns}/{key:?}");
        let got_at: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(&mut con).unwrap();
        assert_eq!(got_at, at.map_or(-1, |a| a as i64), "{ns}/{key:?}");
    }
    // And as redis-cli shows them.
    assert_eq!(redis.cli(&["GET", "sessions:s3"]).stdout, b"{\"u\":3}\n");
    assert_eq!(redis.cli(&["GET", "counter"]).stdout, b"-42\n");
    let at = want[&("tenant-ä".to_string(), b"x".to_vec())].1.unwrap();
    assert_eq!(
        redis.cli(&["PEXPIRETIME", "tenant-ä:x"]).stdout,
        format!("{at}\n").into_bytes()
    );
}

#[test]
fn every_kind_reaches_a_redis_cluster() {
    let (src, want) = source();
    let cluster = Cluster::start();
    let out = ok(&migrate(
        &src,
        &["--to", &cluster.seeds(), "--verify", "all"],
    ));
    assert!(out.contains("0 mismatched"), "{out}");
    let nodes: Vec<String> = cluster
        .ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect();
    let client = redis::cluster::ClusterClient::new(nodes).unwrap();
    let mut con = client.get_connection().unwrap();
    for ((ns, key), (value, at)) in &want {
        let k = redis_key(ns, key);
        let got: Option<Vec<u8>> = con.get(&k).unwrap();
        assert_eq!(got.as_ref(), Some(value), "{ns}/{key:?}");
        let got_at: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(&mut con).unwrap();
        assert_eq!(got_at, at.map_or(-1, |a| a as i64), "{ns}/{key:?}");
    }
    // The keys are spread over the three masters.
    let per_node: Vec<usize> = cluster
        .ports
        .iter()
        .map(|p| {
            String::from_utf8_lossy(&cluster.cli(*p, &["DBSIZE"]).stdout)
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(per_node.iter().sum::<usize>(), want.len());
    assert!(per_node.iter().all(|&n| n > 50), "{per_node:?}");
    assert_eq!(
        cluster.cli_c(&["GET", "sessions:s8"]).stdout,
        b"{\"u\":8}\n"
    );
}

#[test]
fn every_kind_reaches_sqlite() {
    let (src, want) = source();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let to = format!("sqlite:{}", db.display());
    let out = ok(&migrate(&src, &["--to", &to, "--verify", "all"]));
    assert!(out.contains("0 mismatched"), "{out}");
    assert_same(&sqlite_rows(&db), &want, "sqlite");
    let cli = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT CAST(value AS TEXT) FROM tinykv_entries WHERE namespace='sessions' AND key=CAST('s5' AS BLOB)")
        .output()
        .expect("sqlite3 must be installed (.ci/run installs it)");
    assert_eq!(cli.stdout, b"{\"u\":5}\n");
}

#[test]
fn every_kind_reaches_postgres_and_a_user_without_rights_is_refused() {
    let (src, want) = source();
    let pg = Postgres::start();
    let out = ok(&migrate(
        &src,
        &["--to", &pg.url("postgres"), "--verify", "all"],
    ));
    assert!(out.contains("0 mismatched"), "{out}");
    let mut client = postgres::Client::connect(
        &format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            pg.port
        ),
        postgres::NoTls,
    )
    .unwrap();
    let rows = client
        .query(
            "SELECT namespace, key, value, (extract(epoch from expires_at) * 1000)::bigint \
             FROM tinykv_entries",
            &[],
        )
        .unwrap();
    let got: Expected = rows
        .iter()
        .map(|r| {
            let at: Option<i64> = r.get(3);
            ((r.get(0), r.get(1)), (r.get(2), at.map(|a| a as u64)))
        })
        .collect();
    assert_same(&got, &want, "postgres");
    let cli = pg.psql(
        "postgres",
        "SELECT convert_from(value, 'UTF8') FROM tinykv_entries WHERE namespace = 'sessions' \
         AND key = 's9'::bytea",
    );
    assert_eq!(String::from_utf8_lossy(&cli.stdout), "{\"u\":9}\n");

    // A user who may read but not write the table fails before anything is read.
    let setup = pg.psql(
        "postgres",
        "CREATE ROLE reader LOGIN; GRANT SELECT ON tinykv_entries TO reader",
    );
    assert!(setup.status.success(), "{setup:?}");
    let out = migrate(&src, &["--to", &pg.url("reader")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("may not insert into or update table tinykv_entries"),
        "{err}"
    );
    assert!(err.contains(&format!("127.0.0.1:{}", pg.port)), "{err}");
}

#[test]
fn a_dry_run_writes_nothing_and_says_what_it_would_do() {
    let (src, want) = source();
    let redis = Redis::start(None);
    assert!(redis.cli(&["SET", "k1", "theirs"]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    ok(&migrate(
        &src,
        &[
            "--to",
            &redis.url(),
            "--dry-run",
            "--on-conflict",
            "skip",
            "--report",
            rep.to_str().unwrap(),
        ],
    ));
    let r = report(&rep);
    assert_eq!(r["dryRun"], true);
    assert_eq!(r["total"]["written"], want.len() - 1);
    assert_eq!(r["total"]["skippedConflict"], 1);
    assert_eq!(redis.cli(&["DBSIZE"]).stdout, b"1\n");
    assert_eq!(redis.cli(&["GET", "k1"]).stdout, b"theirs\n");
}

#[test]
fn conflicts_follow_the_policy() {
    let (src, want) = source();
    let redis = Redis::start(None);
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    let rep_s = rep.to_str().unwrap();
    assert!(redis.cli(&["SET", "k1", "theirs"]).status.success());

    let out = migrate(
        &src,
        &[
            "--to",
            &redis.url(),
            "--on-conflict",
            "fail",
            "--report",
            rep_s,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(report(&rep)["stopped"]
        .as_str()
        .unwrap()
        .contains("already in the target"));
    assert_eq!(redis.cli(&["GET", "k1"]).stdout, b"theirs\n");

    ok(&migrate(
        &src,
        &[
            "--to",
            &redis.url(),
            "--on-conflict",
            "skip",
            "--report",
            rep_s,
        ],
    ));
    let r = report(&rep);
    assert_eq!(
        r["total"]["skippedConflict"],
        want.len() - r["total"]["written"].as_u64().unwrap() as usize
    );
    assert_eq!(redis.cli(&["GET", "k1"]).stdout, b"theirs\n");
    assert_eq!(
        redis.cli(&["DBSIZE"]).stdout,
        format!("{}\n", want.len()).into_bytes()
    );

    // Verify compares the kept key too, and says it differs.
    let args = [
        "--to",
        &redis.url(),
        "--on-conflict",
        "skip",
        "--verify",
        "all",
    ];
    let out = migrate(&src, &[&args[..], &["--report", rep_s]].concat());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let r = report(&rep);
    assert_eq!(r["verify"]["checked"], want.len());
    assert_eq!(r["verify"]["mismatched"], 1);
    assert_eq!(r["verify"]["examples"][0], "default/k1: value differs");

    ok(&migrate(&src, &["--to", &redis.url(), "--report", rep_s]));
    assert_eq!(report(&rep)["total"]["written"], want.len());
    assert_eq!(redis.cli(&["GET", "k1"]).stdout, b"v1\n");
}

#[test]
fn bad_targets_fail_before_the_source_is_read() {
    // The source does not exist: an error about it would mean it was read first.
    let no_source = "unix:///nonexistent/tinykv.sock";
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(["migrate", "--from", no_source])
            .args(args)
            .output()
            .unwrap()
    };
    let port = migrate_support::free_port();
    let out = run(&["--to", &format!("redis://127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("target redis://127.0.0.1:{port}: cannot connect")),
        "{err}"
    );

    let redis = Redis::start(Some("right"));
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "wrong\n").unwrap();
    let out = run(&[
        "--to",
        &redis.url(),
        "--to-pass-file",
        pass.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("target {}", redis.url())), "{err}");
    assert!(err.to_lowercase().contains("pass"), "{err}");
    assert!(!err.contains("wrong"), "the password leaked: {err}");

    let out = run(&["--to", "mysql://x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--to", "sqlite:/nonexistent/dir/x.db"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("target sqlite:/nonexistent/dir/x.db"));
}

#[test]
fn a_key_the_target_refuses_is_reported_and_the_rest_go_on() {
    let (src, want) = source();
    let redis = Redis::start(None);
    // An ACL user that may write only keys starting with k (and the probe).
    let acl = redis.cli(&[
        "ACL",
        "SETUSER",
        "mig",
        "on",
        ">pw",
        "~k*",
        "~tinykv:migrate:*",
        "+@all",
    ]);
    assert!(acl.status.success(), "{acl:?}");
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    let url = format!("redis://mig:pw@127.0.0.1:{}", redis.port);
    let allowed = want
        .keys()
        .filter(|(ns, k)| redis_key(ns, k).starts_with(b"k"))
        .count();
    // One batch, then batches of 7: a refused MSET is sent again as SETs while the next
    // batch is in flight, and the rest of the run goes as SETs.
    for batch in ["10000", "7"] {
        redis.cli(&["FLUSHALL"]);
        let rep_path = rep.to_str().unwrap();
        let out = migrate(
            &src,
            &["--to", &url, "--report", rep_path, "--batch-size", batch],
        );
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let r = report(&rep);
        assert_eq!(r["total"]["written"], allowed, "batch {batch}");
        assert_eq!(r["total"]["failed"], want.len() - allowed, "batch {batch}");
        assert!(
            r["namespaces"]["sessions"]["errors"][0]
                .as_str()
                .unwrap()
                .contains("NOPERM"),
            "{r}"
        );
        assert!(!r["target"].as_str().unwrap().contains("pw@"));
        assert_eq!(
            redis.cli(&["DBSIZE"]).stdout,
            format!("{allowed}\n").into_bytes()
        );
        // What it wrote is the source's, TTLs included.
        let mut con = redis::Client::open(redis.url())
            .unwrap()
            .get_connection()
            .unwrap();
        for ((ns, key), (value, at)) in &want {
            let k = redis_key(ns, key);
            if k.starts_with(b"k") {
                let got: Option<Vec<u8>> = con.get(&k).unwrap();
                assert_eq!(got.as_ref(), Some(value), "{ns}/{key:?}");
                let got_at: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(&mut con).unwrap();
                assert_eq!(got_at, at.map_or(-1, |a| a as i64), "{ns}/{key:?}");
            }
        }
    }
}

#[test]
fn a_killed_migration_finishes_when_run_again() {
    let store = Arc::new(Store::new(Config::default()).unwrap());
    let n = 60_000;
    let ns = store.namespace("bulk").unwrap();
    for i in 0..n {
        let opts = SetOptions {
            ttl_ms: (i % 10 == 0).then_some(3_600_000),
            ..SetOptions::default()
        };
        store
            .set(
                ns,
                &format!("key:{i}"),
                Value::from(format!("{i:0>100}")),
                &opts,
            )
            .unwrap();
    }
    let src = TestServer::with_store(ServerConfig::default(), store);
    let redis = Redis::start(None);
    let size = || -> usize {
        String::from_utf8_lossy(&redis.cli(&["DBSIZE"]).stdout)
            .trim()
            .parse()
            .unwrap()
    };
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for round in 0..5 {
        let stop_at = size() + rng.gen_range(1_000..(n - size()) / 2);
        let mut child = Command::new(BIN)
            .args(["migrate", "-s"])
            .arg(&src.sock)
            .args(["--to", &redis.url(), "--batch-size", "200"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        while size() < stop_at {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: finished before the kill"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let partial = size();
        assert!(partial < n, "round {round}: {partial}");
        // Start over from nothing sometimes, as an operator might not.
        if round == 2 {
            assert!(redis.cli(&["FLUSHALL"]).status.success());
        }
    }
    let src_ref = &src;
    ok(&migrate(
        src_ref,
        &["--to", &redis.url(), "--verify", "all"],
    ));
    assert_eq!(size(), n);
    let mut con = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    for i in (0..n).step_by(997) {
        let got: String = con.get(format!("bulk:key:{i}")).unwrap();
        assert_eq!(got, format!("{i:0>100}"));
        let ttl: i64 = con.pttl(format!("bulk:key:{i}")).unwrap();
        assert_eq!(ttl > 0, i % 10 == 0, "key {i}: {ttl}");
    }
}

/// A JSONL export and a snapshot are sources too: the same data reaches the target.
#[test]
fn an_export_or_a_snapshot_file_migrates_like_the_daemon() {
    let (src, want) = source();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("all.jsonl");
    let export = Command::new(BIN)
        .args(["export", "-s"])
        .arg(&src.sock)
        .arg("-o")
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    let snap = dir.path().join("all.snapshot");
    tinykv::persist::save(&src.store, &snap).unwrap();
    for (file, name) in [(&jsonl, "j.db"), (&snap, "s.db")] {
        let db = dir.path().join(name);
        let out = Command::new(BIN)
            .args(["migrate", "--from"])
            .arg(file)
            .arg("--to")
            .arg(format!("sqlite:{}", db.display()))
            .output()
            .unwrap();
        ok(&out);
        assert_same(&sqlite_rows(&db), &want, &file.display().to_string());
    }
    // Only one namespace, by pattern.
    let out = Command::new(BIN)
        .args(["migrate", "--from"])
        .arg(&jsonl)
        .args(["--namespace", "sessions", "--pattern", "s1*", "--to"])
        .arg(format!("sqlite:{}", dir.path().join("f.db").display()))
        .output()
        .unwrap();
    assert!(ok(&out).contains("wrote 11 of 11 keys"), "{out:?}");
}
