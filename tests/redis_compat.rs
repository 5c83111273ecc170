//! TinyKV side by side with a real redis-server: the same commands on both, and the replies
//! compared. Where a reply carries a value that differs by nature (a PID, a CPU time), the test
//! compares its shape: the same fields, the same format.
mod daemon_support;
mod redis_support;

use daemon_support::{Raw, TestServer};
use redis_support::RealRedis;

/// The `name:value` fields of one INFO section.
fn fields(info: &str) -> Vec<(String, String)> {
    info.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('$') && l.contains(':'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn info_cpu_has_redis_fields_in_redis_format() {
    let redis = RealRedis::start();
    let tinykv = TestServer::start();
    let mut r = Raw::new(redis.connect());
    let mut t = tinykv.unix_client();
    let theirs = fields(&r.cmd(&["INFO", "cpu"]));
    let ours = fields(&t.cmd(&["INFO", "cpu"]));
    for name in [
        "used_cpu_sys",
        "used_cpu_user",
        "used_cpu_sys_children",
        "used_cpu_user_children",
    ] {
        let want = theirs.iter().find(|(k, _)| k == name);
        let got = ours.iter().find(|(k, _)| k == name);
        let (Some((_, want)), Some((_, got))) = (want, got) else {
            panic!("{name}: redis {want:?}, tinykv {got:?}");
        };
        // Seconds with six decimals, as Redis prints them.
        for v in [want, got] {
            let (secs, micros) = v.split_once('.').expect("seconds.micros");
            assert!(
                secs.parse::<u64>().is_ok() && micros.len() == 6,
                "{name}:{v}"
            );
        }
    }
    // The section is in INFO's default output too, between Stats and Keyspace as in Redis.
    let all = t.cmd(&["INFO"]);
    let (stats, cpu, keyspace) = (
        all.find("# Stats").unwrap(),
        all.find("# CPU").unwrap(),
        all.find("# Keyspace").unwrap(),
    );
    assert!(stats < cpu && cpu < keyspace, "{all}");
}
