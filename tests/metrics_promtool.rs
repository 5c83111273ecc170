//! The Prometheus text passes `promtool check metrics` (Debian's `prometheus` package ships
//! promtool; `.ci/run` installs it). Fails with a clear message if promtool is missing.

use std::io::Write;
use std::process::{Command, Stdio};
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
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "promtool not found: install Debian's prometheus package (apt-get install prometheus)",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool rejected the metrics:\n{said}\n---\n{text}"
    );
    assert!(said.trim().is_empty(), "promtool lint findings:\n{said}");
    assert!(text.contains("tinykv_keyspace_hits_total 50"), "{text}");
}
