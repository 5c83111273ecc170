//! Helpers shared by test binaries: a program fed on stdin, `promtool check metrics`, and the
//! process's resident set size.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `program args` with `input` on stdin and waits for it; stdout and stderr are captured.
/// Panics with the program's name if it cannot be started.
pub fn run_with_stdin(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("write to the child's stdin");
    }
    child.wait_with_output().expect("wait for the child")
}

/// Asserts that `promtool check metrics` accepts `text` with no lint findings (Debian's
/// `prometheus` package ships promtool; `.ci/run` installs it).
pub fn assert_promtool_accepts(text: &str) {
    if Command::new("promtool").arg("--version").output().is_err() {
        panic!(
            "promtool not found: install Debian's prometheus package (apt-get install prometheus)"
        );
    }
    let out = run_with_stdin("promtool", &["check", "metrics"], text.as_bytes());
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
}

/// This process's resident set size in bytes, from /proc (0 where there is none). Process-wide:
/// a binary that reads it keeps its tests from overlapping.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
