//! The Prometheus text passes `promtool check metrics` (Debian's `prometheus` package ships
//! promtool; `.ci/run` installs it). Fails with a clear message if promtool is missing.

mod common;

use tinykv::store::{Config, Ns, SetOptions, Store, Value};

#[test]
fn store_metrics_pass_promtool() {
    let s = Store::new(Config {
        max_memory: Some(1 << 20),
        ..Config::default()
    })
    .unwrap();
    let ns = s.namespace("sessions").unwrap();
    for i in 0..100 {
        s.set(
            Ns::DEFAULT,
            &format!("k{i}"),
            Value::from("v"),
            &SetOptions::default(),
        )
        .unwrap();
        s.set(ns, &format!("s{i}"), Value::Int(i), &SetOptions::default())
            .unwrap();
    }
    for i in 0..100 {
        s.get(Ns::DEFAULT, &format!("k{}", i * 2));
    }
    let text = tinykv::metrics::render(s.stats());
    common::assert_promtool_accepts(&text);
    assert!(text.contains("tinykv_keyspace_hits_total 50"), "{text}");
}
