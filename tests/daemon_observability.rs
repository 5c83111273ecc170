//! The daemon's observability: `/metrics` values after real commands, `promtool check metrics`
//! on the daemon's own output, `/healthz`, `/readyz` (200 while serving, 503 during shutdown),
//! INFO's Redis field names and `latencystats`, STATS latencies, CONFIG GET of the caps.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod common;
mod daemon_support;

use std::sync::Arc;
use std::time::Duration;

use daemon_support::{get, http, TestServer};
use tinykv::server::ServerConfig;
use tinykv::store::{Config, EvictionPolicy, Store};

fn server() -> TestServer {
    let store = Store::new(Config {
        max_memory: Some(64 << 20),
        eviction_policy: EvictionPolicy::Lfu,
        ..Config::default()
    })
    .unwrap();
    TestServer::with_http(ServerConfig::default(), Arc::new(store))
}

/// The value of the sample line `name` (exact, labels included).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// INFO field `key` from an INFO reply.
fn info_field(info: &str, key: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

#[test]
fn metrics_count_what_clients_did() {
    let s = server();
    let mut c = s.client();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["GET", "missing"]);
    for _ in 0..3 {
        c.cmd(&["INCR", "n"]);
    }
    let (status, text) = get(&s, "/metrics");
    assert_eq!(status, 200);
    let expect = [
        ("tinykv_keyspace_hits_total", 1.0),
        ("tinykv_keyspace_misses_total", 1.0),
        ("tinykv_keys", 2.0),
        ("tinykv_connected_clients", 1.0),
        ("tinykv_connections_total", 1.0),
        ("tinykv_commands_processed_total", 6.0),
        ("tinykv_max_memory_bytes", (64 << 20) as f64),
        (
            "tinykv_command_duration_seconds_count{command=\"get\"}",
            2.0,
        ),
        (
            "tinykv_command_duration_seconds_count{command=\"incr\"}",
            3.0,
        ),
        (
            "tinykv_command_duration_seconds_bucket{le=\"+Inf\",command=\"incr\"}",
            3.0,
        ),
        ("tinykv_namespace_keys{namespace=\"default\"}", 2.0),
    ];
    for (name, want) in expect {
        assert_eq!(sample(&text, name), Some(want), "{name} in\n{text}");
    }
    assert!(text.contains("# TYPE tinykv_command_duration_seconds histogram"));
    assert!(text.contains("# TYPE tinykv_connections_total counter"));
    let sum = sample(
        &text,
        "tinykv_command_duration_seconds_sum{command=\"set\"}",
    );
    assert!(sum.is_some_and(|v| v > 0.0), "{text}");
}

#[test]
fn daemon_metrics_pass_promtool() {
    let s = server();
    let mut c = s.client();
    for i in 0..50 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
        c.cmd(&["GET", &format!("k{}", i * 2)]);
    }
    c.cmd(&["SELECT", "sessions"]);
    c.cmd(&["SET", "s", "1"]);
    c.cmd(&["NOSUCHCOMMAND"]);
    let (_, text) = get(&s, "/metrics");
    assert!(text.contains("command=\"other\""), "{text}");
    common::assert_promtool_accepts(&text);
}

#[test]
fn health_ready_and_unknown_paths() {
    let s = server();
    let addr = s.http.unwrap();
    assert_eq!(get(&s, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(&s, "/readyz"), (200, "ready\n".into()));
    assert_eq!(get(&s, "/nope").0, 404);
    assert_eq!(http(addr, "POST", "/metrics").0, 405);
    assert_eq!(http(addr, "HEAD", "/healthz").0, 200);
}

/// A client that does not read a large reply holds shutdown in its flush phase (grace is long),
/// so the test can observe `/readyz` at 503 and `/healthz` still at 200 without timing.
#[test]
fn readyz_is_503_during_shutdown() {
    let config = ServerConfig {
        shutdown_grace: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let mut s = TestServer::with_http(config, Arc::new(Store::new(Config::default()).unwrap()));
    let big = "x".repeat(16 << 20);
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "big", &big]), "+OK\r\n");
    let mut slow = s.unix_client();
    slow.send(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
    drop(c);
    // Wait until the GET has run (its reply is now queued, mostly unread).
    while sample(
        &get(&s, "/metrics").1,
        "tinykv_command_duration_seconds_count{command=\"get\"}",
    ) != Some(1.0)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(get(&s, "/readyz").0, 200);
    s.begin_stop();
    while get(&s, "/readyz").0 != 503 {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(get(&s, "/readyz"), (503, "not ready\n".into()));
    assert_eq!(get(&s, "/healthz").0, 200);
    // The slow client reads its whole reply; shutdown then completes.
    let reply = slow.reply();
    assert_eq!(reply.len(), big.len() + "$16777216\r\n\r\n".len());
    assert!(slow.closed());
    s.join();
}

#[test]
fn info_uses_redis_names_and_shows_latency_percentiles() {
    let s = server();
    let mut c = s.client();
    c.cmd(&["SET", "a", "hello"]);
    for _ in 0..10 {
        c.cmd(&["GET", "a"]);
    }
    c.cmd(&["GET", "missing"]);
    let info = c.cmd(&["INFO"]);
    for (key, want) in [
        ("keyspace_hits", "10"),
        ("keyspace_misses", "1"),
        ("expired_keys", "0"),
        ("evicted_keys", "0"),
        ("maxmemory", "67108864"),
        ("maxmemory_policy", "allkeys-lfu"),
        ("connected_clients", "1"),
        ("total_commands_processed", "12"),
        ("keyspace_hit_ratio", "0.9091"),
    ] {
        assert_eq!(
            info_field(&info, key).as_deref(),
            Some(want),
            "{key}:\n{info}"
        );
    }
    for key in [
        "used_memory",
        "instantaneous_ops_per_sec",
        "uptime_in_seconds",
    ] {
        let v = info_field(&info, key).unwrap_or_default();
        assert!(v.parse::<u64>().is_ok(), "{key}={v:?}\n{info}");
    }
    assert!(info.contains("# Latencystats\r\n"), "{info}");
    let line = info_field(&info, "latency_percentiles_usec_get").expect("get latency");
    let q: Vec<f64> = line
        .split(',')
        .map(|kv| kv.split_once('=').unwrap().1.parse().unwrap())
        .collect();
    assert!(line.starts_with("p50=") && line.contains(",p99=") && line.contains(",p99.9="));
    assert!(q[0] > 0.0 && q[0] <= q[1] && q[1] <= q[2], "{line}");
    assert!(info.contains("default:keys=1,bytes="), "{info}");
    let only = c.cmd(&["INFO", "latencystats"]);
    assert!(only.contains("latency_percentiles_usec_set:p50="), "{only}");
    assert!(!only.contains("keyspace_hits"), "{only}");
}

#[test]
fn stats_command_adds_latencies() {
    let s = server();
    let mut c = s.client();
    c.cmd(&["SET", "a", "1"]);
    let stats = c.cmd(&["STATS"]);
    for field in [
        "latency.set.p50",
        "latency.set.p99",
        "latency.set.p999",
        "hit_ratio",
    ] {
        assert!(
            stats.contains(&format!("\r\n{field}\r\n")),
            "{field}: {stats}"
        );
    }
}

#[test]
fn config_get_reports_the_real_caps() {
    let s = server();
    let mut c = s.client();
    let r = c.cmd(&["CONFIG", "GET", "maxmemory*"]);
    assert_eq!(
        r,
        "*4\r\n$9\r\nmaxmemory\r\n$8\r\n67108864\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lfu\r\n"
    );
}
