//! What a migration did, per namespace: the JSON report (`--report FILE`, its fields documented
//! in docs/migrating.md and kept stable for scripts) and the human summary on stdout.

use super::{Entry, Outcome};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Errors kept per namespace for the report; the rest are only counted.
const FIRST_ERRORS: usize = 10;

/// Counts for one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NsReport {
    /// Entries read from the source (live and expired).
    pub read: u64,
    /// Entries written (in a dry run: that would be written).
    pub written: u64,
    /// Entries skipped because their TTL ran out before they could be written.
    pub skipped_expired: u64,
    /// Entries skipped because the target held the key (`--on-conflict skip|fail`).
    pub skipped_conflict: u64,
    /// Entries whose write failed.
    pub failed: u64,
    /// The first errors, `key: message`.
    pub errors: Vec<String>,
    /// Value bytes written.
    pub bytes: u64,
    /// Written entries that carry a TTL.
    pub with_ttl: u64,
}

impl NsReport {
    /// Counts an entry whose TTL ran out before its write.
    pub fn read_expired(&mut self, _e: &Entry) {
        self.read += 1;
        self.skipped_expired += 1;
    }

    /// Counts a live entry and what its write did.
    pub fn record(&mut self, e: &Entry, outcome: &Outcome) {
        self.read += 1;
        match outcome {
            Outcome::Written => {
                self.written += 1;
                self.bytes += e.value.len() as u64;
                self.with_ttl += u64::from(e.expires_at_ms.is_some());
            }
            Outcome::Conflict => self.skipped_conflict += 1,
            Outcome::Failed(why) => {
                self.failed += 1;
                if self.errors.len() < FIRST_ERRORS {
                    self.errors
                        .push(format!("{}: {why}", String::from_utf8_lossy(&e.key)));
                }
            }
        }
    }

    fn json(&self) -> Value {
        json!({
            "read": self.read,
            "written": self.written,
            "skippedExpired": self.skipped_expired,
            "skippedConflict": self.skipped_conflict,
            "failed": self.failed,
            "errors": self.errors,
            "bytes": self.bytes,
            "withTtl": self.with_ttl,
        })
    }
}

/// The read-back check of `--verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Keys read back and compared.
    pub checked: u64,
    /// Keys whose value or expiry differed, or that were missing.
    pub mismatched: u64,
    /// Up to ten of them, `ns/key: what differs`.
    pub examples: Vec<String>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The target, without its password.
    pub target: String,
    /// True for `--dry-run`: counts say what would have happened.
    pub dry_run: bool,
    /// Per namespace, by name.
    pub namespaces: BTreeMap<String, NsReport>,
    /// Seconds spent reading and writing (not verifying).
    pub seconds: f64,
    /// The verify result, when asked for.
    pub verify: Option<VerifyReport>,
    /// Why the run stopped before the end of the source, if it did.
    pub stopped: Option<String>,
    /// Things worth a look that are not errors.
    pub warnings: Vec<String>,
}

impl Report {
    /// An empty report for `target`.
    pub fn new(target: String, dry_run: bool) -> Report {
        Report {
            target,
            dry_run,
            namespaces: BTreeMap::new(),
            seconds: 0.0,
            verify: None,
            stopped: None,
            warnings: Vec::new(),
        }
    }

    /// The counts of namespace `name`, created at zero.
    pub fn ns(&mut self, name: &str) -> &mut NsReport {
        self.namespaces.entry(name.to_string()).or_default()
    }

    /// All namespaces added up.
    pub fn total(&self) -> NsReport {
        let mut t = NsReport::default();
        for n in self.namespaces.values() {
            t.read += n.read;
            t.written += n.written;
            t.skipped_expired += n.skipped_expired;
            t.skipped_conflict += n.skipped_conflict;
            t.failed += n.failed;
            t.bytes += n.bytes;
            t.with_ttl += n.with_ttl;
        }
        t
    }

    /// True when every key went as asked: nothing failed, no stop, no verify mismatch.
    pub fn ok(&self) -> bool {
        self.total().failed == 0
            && self.stopped.is_none()
            && self.verify.as_ref().is_none_or(|v| v.mismatched == 0)
    }

    /// The JSON report (version 1; fields documented in docs/migrating.md).
    pub fn json(&self) -> Value {
        let total = self.total();
        let rate = if self.seconds > 0.0 {
            total.read as f64 / self.seconds
        } else {
            0.0
        };
        json!({
            "version": 1,
            "target": self.target,
            "dryRun": self.dry_run,
            "ok": self.ok(),
            "seconds": self.seconds,
            "keysPerSecond": rate.round(),
            "total": total.json(),
            "namespaces": self.namespaces.iter()
                .map(|(k, v)| (k.clone(), v.json()))
                .collect::<serde_json::Map<_, _>>(),
            "verify": self.verify.as_ref().map(|v| json!({
                "checked": v.checked,
                "mismatched": v.mismatched,
                "examples": v.examples,
            })),
            "stopped": self.stopped,
            "warnings": self.warnings,
        })
    }

    /// The summary printed on stdout.
    pub fn human(&self) -> String {
        let t = self.total();
        let mut s = String::new();
        let verb = if self.dry_run {
            "dry run, nothing written: would write"
        } else {
            "wrote"
        };
        let _ = writeln!(
            s,
            "{}: {verb} {} of {} keys read ({} with TTLs, {} bytes) in {:.2}s",
            self.target, t.written, t.read, t.with_ttl, t.bytes, self.seconds
        );
        let _ = writeln!(
            s,
            "skipped: {} expired, {} already in the target; failed: {}",
            t.skipped_expired, t.skipped_conflict, t.failed
        );
        for (name, n) in &self.namespaces {
            let _ = writeln!(
                s,
                "  {name}: read {} written {} expired {} conflict {} failed {}",
                n.read, n.written, n.skipped_expired, n.skipped_conflict, n.failed
            );
            for e in &n.errors {
                let _ = writeln!(s, "    error: {e}");
            }
        }
        if let Some(v) = &self.verify {
            let _ = writeln!(
                s,
                "verify: {} checked, {} mismatched",
                v.checked, v.mismatched
            );
            for e in &v.examples {
                let _ = writeln!(s, "    {e}");
            }
        }
        if let Some(why) = &self.stopped {
            let _ = writeln!(s, "stopped early: {why}");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }
}
