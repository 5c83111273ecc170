//! `tinykv migrate`: moving every entry of a TinyKV daemon (or a file) into Redis, a Redis
//! Cluster, PostgreSQL or SQLite, with TTLs as absolute times. One module per side: [`source`]
//! reads entries in batches, [`redis_target`] and [`sql`] write them, [`report`] counts what
//! happened. Invariants: the target is checked (reachable, authenticated, writable) before the
//! source is read; an entry whose TTL has run out before it is written is skipped and counted,
//! never written without its TTL; a failed write of one key is reported and the rest go on;
//! running the same migration again converges on the same target (writes are idempotent), so
//! a killed run is finished by running it again.

pub mod redis_target;
pub mod report;
pub mod source;
pub mod sql;

use report::{NsReport, Report};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The name TinyKV gives its default namespace (database 0).
pub const DEFAULT_NAMESPACE: &str = "default";

/// Most key and value bytes in one batch, whatever `--batch-size` allows: batches of small
/// entries stay long (per-batch costs, a COPY or a transaction, are paid rarely) while
/// batches of large values stay within memory.
pub const BATCH_BYTES: usize = 8 << 20;

/// One entry on its way from the source to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its namespace's name ([`DEFAULT_NAMESPACE`] for the default one).
    pub ns: String,
    /// Its key within the namespace.
    pub key: Vec<u8>,
    /// Its value's bytes (an integer as its decimal text, as GET answers it).
    pub value: Vec<u8>,
    /// Absolute expiry, Unix epoch ms; `None` for no TTL.
    pub expires_at_ms: Option<u64>,
}

/// What to do with a key the target already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Replace it (and its TTL) with the source's.
    Overwrite,
    /// Keep the target's; count it as skipped.
    Skip,
    /// Keep the target's and stop after the batch that met it, exit non-zero.
    Fail,
}

/// How many keys `--verify` reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// None.
    Off,
    /// This many, drawn at random from the written ones.
    Sample(usize),
    /// Every written key.
    All,
}

/// What a write of one entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written.
    Written,
    /// The target held the key and the policy kept it.
    Conflict,
    /// The write failed; the message says why.
    Failed(String),
}

/// Where a run's entries come from: the next batch, `None` at the end.
pub type Batches = Box<dyn FnMut() -> Result<Option<Vec<Entry>>, String>>;

/// A place entries go. Implementations check themselves in their constructor (reachable,
/// authenticated, table writable) so that a bad target fails before the source is read.
pub trait Target {
    /// For messages: which target this is, with no password.
    fn describe(&self) -> String;
    /// Which of `batch` the target already holds (the dry run's conflict count).
    fn existing(&mut self, batch: &[Entry]) -> Result<Vec<bool>, String>;
    /// Writes `batch` under `policy`; one outcome per entry, in order. An `Err` means the
    /// whole batch failed (a lost connection), not one key.
    fn write(&mut self, batch: &[Entry], policy: OnConflict) -> Result<Vec<Outcome>, String>;
    /// Starts writing `batch` under `policy`; [`Target::finish`] gives its outcomes. A target
    /// that can keep one batch in flight sends it here and reads the replies in `finish`, so
    /// the server works on one batch while the next is read and encoded. By default the batch
    /// is written at once.
    fn start(&mut self, batch: &[Entry], policy: OnConflict) -> Result<Started, String> {
        self.write(batch, policy).map(Started::Done)
    }
    /// The outcomes of `batch`, which [`Target::start`] began: the oldest batch in flight
    /// (at most two are).
    fn finish(&mut self, _batch: &[Entry], started: Started) -> Result<Vec<Outcome>, String> {
        match started {
            Started::Done(outcomes) => Ok(outcomes),
            Started::InFlight(_) => Err(format!("{}: no batch in flight", self.describe())),
        }
    }
    /// Reads back value and absolute expiry of each of `entries` (`None`: missing).
    fn read_back(&mut self, entries: &[Entry]) -> Result<Vec<Option<Stored>>, String>;
}

/// A batch [`Target::start`] began.
pub enum Started {
    /// Written already; these are its outcomes.
    Done(Vec<Outcome>),
    /// Sent; this many replies are still to read.
    InFlight(usize),
}

/// A value and absolute expiry (Unix ms) as a target holds them.
pub type Stored = (Vec<u8>, Option<u64>);

/// Options of one run, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these namespaces (all when empty).
    pub namespaces: Vec<String>,
    /// Only keys matching this glob (Redis's rules).
    pub pattern: Option<String>,
    /// What to do with keys the target holds.
    pub on_conflict: OnConflict,
    /// Read everything, write nothing.
    pub dry_run: bool,
    /// Keys to read back and compare after writing.
    pub verify: Verify,
    /// Entries per read and per write round trip.
    pub batch_size: usize,
    /// On Redis, what joins a namespace to its keys; `None` for a target with namespaces of its
    /// own (a table). Used to warn of default-namespace keys that look like another's.
    pub prefix_separator: Option<String>,
    /// How far a read-back expiry may differ from the source's, in ms (a target that keeps
    /// seconds, such as a timestamp column, rounds).
    pub ttl_tolerance_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespaces: Vec::new(),
            pattern: None,
            on_conflict: OnConflict::Overwrite,
            dry_run: false,
            verify: Verify::Off,
            batch_size: 1000,
            prefix_separator: None,
            ttl_tolerance_ms: 1,
        }
    }
}

/// The current time, Unix epoch ms.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The key a namespaced entry gets on Redis, which has no namespaces that survive a cluster:
/// the default namespace's keys as they are, any other's as `{ns}{separator}{key}`. The SDK
/// maps namespaces the same way (docs/migrating.md).
pub fn redis_key(ns: &str, key: &[u8], separator: &str) -> Vec<u8> {
    if ns == DEFAULT_NAMESPACE {
        return key.to_vec();
    }
    let mut out = Vec::with_capacity(ns.len() + separator.len() + key.len());
    out.extend_from_slice(ns.as_bytes());
    out.extend_from_slice(separator.as_bytes());
    out.extend_from_slice(key);
    out
}

/// Runs a migration: every batch `next_batch` gives, into `target`, counted into a report.
/// `progress` is told the entries done so far after each batch.
pub fn run(
    mut next_batch: impl FnMut() -> Result<Option<Vec<Entry>>, String>,
    target: &mut dyn Target,
    opts: &Options,
    mut progress: impl FnMut(u64),
) -> Result<Report, String> {
    let started = Instant::now();
    let mut t = Tally {
        report: Report::new(target.describe(), opts.dry_run),
        sample: Sampler::new(opts.verify),
        prefixes: Prefixes::default(),
    };
    let mut done = 0u64;
    // The batch the target is working on while the next one is read: its live entries, and
    // how far the source had got when it was read (for progress).
    let mut in_flight: Option<(Vec<Entry>, Started, u64)> = None;
    // With --on-conflict fail no batch may start before the last one's outcomes are known
    // (so only without overlap can a batch's outcomes stop the run).
    let overlap = !opts.dry_run && opts.on_conflict != OnConflict::Fail;
    let mut stopped = false;
    while let Some(batch) = next_batch()? {
        done += batch.len() as u64;
        let now = now_ms();
        let (live, expired): (Vec<Entry>, Vec<Entry>) = batch
            .into_iter()
            .partition(|e| e.expires_at_ms.is_none_or(|at| at > now));
        for e in &expired {
            t.report.ns(&e.ns).read_expired(e);
        }
        if live.is_empty() {
            if in_flight.is_none() {
                progress(done);
            }
            continue;
        }
        let started = if opts.dry_run {
            let held = target.existing(&live)?;
            Started::Done(
                held.into_iter()
                    .map(|h| match (h, opts.on_conflict) {
                        (true, OnConflict::Skip | OnConflict::Fail) => Outcome::Conflict,
                        _ => Outcome::Written,
                    })
                    .collect(),
            )
        } else {
            target.start(&live, opts.on_conflict)?
        };
        if let Some((prev, s, at)) = in_flight.take() {
            stopped = t.settle(target, opts, prev, s)?;
            progress(at);
        }
        if overlap {
            in_flight = Some((live, started, done));
        } else {
            stopped |= t.settle(target, opts, live, started)?;
            progress(done);
        }
        if stopped {
            break;
        }
    }
    if let Some((prev, s, at)) = in_flight.take() {
        t.settle(target, opts, prev, s)?;
        progress(at);
    }
    let Tally {
        mut report,
        sample,
        prefixes,
    } = t;
    report.seconds = started.elapsed().as_secs_f64();
    if let Some(sep) = &opts.prefix_separator {
        report.warnings.extend(prefixes.warnings(&report, sep));
    }
    if opts.verify != Verify::Off {
        report.verify = Some(verify(target, sample.into_entries(), opts)?);
    }
    Ok(report)
}

/// What a run counts as batches finish.
struct Tally {
    report: Report,
    /// Entries kept for `--verify`.
    sample: Sampler,
    /// Default-namespace key prefixes, for the collision warning.
    prefixes: Prefixes,
}

impl Tally {
    /// Waits for the outcomes of `live`, a batch `target` started, and counts them into the
    /// report (and the verify sample and prefix notes); true when `--on-conflict fail` must
    /// stop the run here.
    fn settle(
        &mut self,
        target: &mut dyn Target,
        opts: &Options,
        live: Vec<Entry>,
        started: Started,
    ) -> Result<bool, String> {
        let outcomes = target.finish(&live, started)?;
        let mut conflict = false;
        if let Some(sep) = &opts.prefix_separator {
            live.iter().for_each(|e| self.prefixes.note(e, sep));
        }
        for (e, o) in live.into_iter().zip(outcomes) {
            let ns: &mut NsReport = self.report.ns(&e.ns);
            ns.record(&e, &o);
            conflict |= o == Outcome::Conflict;
            // Verify compares every live key the target should hold, kept ones included.
            if matches!(o, Outcome::Written | Outcome::Conflict) {
                self.sample.offer(e);
            }
        }
        if conflict && opts.on_conflict == OnConflict::Fail {
            self.report.stopped = Some("a key already in the target (--on-conflict fail)".into());
            return Ok(true);
        }
        Ok(false)
    }
}

/// Runs `next_batch` on a thread of its own, up to `ahead` batches ahead of the caller, so the
/// source's round trips overlap the target's; gives the batches in order. The thread ends at
/// the source's end or first error, or when the returned reader is dropped.
pub fn read_ahead(
    mut next_batch: impl FnMut() -> Result<Option<Vec<Entry>>, String> + Send + 'static,
    ahead: usize,
) -> impl FnMut() -> Result<Option<Vec<Entry>>, String> {
    let (tx, rx) = std::sync::mpsc::sync_channel(ahead);
    std::thread::spawn(move || loop {
        let batch = next_batch();
        let last = !matches!(batch, Ok(Some(_)));
        if tx.send(batch).is_err() || last {
            return;
        }
    });
    move || {
        rx.recv()
            .unwrap_or_else(|_| Err("the source reader stopped unexpectedly".into()))
    }
}

/// Where default-namespace keys could meet another namespace's on Redis: each prefix of a
/// default key that ends before a separator, with how many keys have it and one of them.
#[derive(Default)]
struct Prefixes {
    /// Prefix -> (keys with it, the first such key).
    seen: std::collections::HashMap<Vec<u8>, (u64, Vec<u8>)>,
}

impl Prefixes {
    /// Most distinct prefixes kept: enough for any real set of namespaces, bounded for any key set.
    const MAX: usize = 100_000;

    fn note(&mut self, e: &Entry, sep: &str) {
        if e.ns != DEFAULT_NAMESPACE || sep.is_empty() {
            return;
        }
        let sep = sep.as_bytes();
        let mut at = 0;
        // The first byte compared alone first: a slice compare per position is a memcmp call.
        let is_sep = |w: &[u8]| w[0] == sep[0] && w == sep;
        while let Some(i) = e.key[at..].windows(sep.len()).position(is_sep) {
            let end = at + i;
            let prefix = &e.key[..end];
            let full = self.seen.len() >= Self::MAX;
            match self.seen.get_mut(prefix) {
                Some(c) => c.0 += 1,
                None if !full => {
                    self.seen.insert(prefix.to_vec(), (1, e.key.clone()));
                }
                None => {}
            }
            at = end + sep.len();
        }
    }

    /// One warning per namespace of the run whose prefix default-namespace keys also carry.
    fn warnings(&self, report: &Report, sep: &str) -> Vec<String> {
        report
            .namespaces
            .keys()
            .filter(|ns| ns.as_str() != DEFAULT_NAMESPACE)
            .filter_map(|ns| {
                let (n, example) = self.seen.get(ns.as_bytes())?;
                Some(format!(
                    "{n} key(s) of the default namespace start with '{ns}{sep}' (e.g. '{}'): on \
                     Redis they share the key space of namespace '{ns}', and a key in both \
                     is one key",
                    String::from_utf8_lossy(example)
                ))
            })
            .collect()
    }
}

/// Reads back `entries` and compares value and expiry with the source's.
fn verify(
    target: &mut dyn Target,
    entries: Vec<Entry>,
    opts: &Options,
) -> Result<report::VerifyReport, String> {
    let mut out = report::VerifyReport::default();
    for chunk in entries.chunks(opts.batch_size.max(1)) {
        let now = now_ms();
        let got = target.read_back(chunk)?;
        for (e, stored) in chunk.iter().zip(got) {
            // An entry that expired since it was written is gone for a good reason.
            if e.expires_at_ms.is_some_and(|at| at <= now) {
                continue;
            }
            out.checked += 1;
            let why = match stored {
                None => Some("missing".to_string()),
                Some((v, _)) if v != e.value => Some("value differs".to_string()),
                Some((_, at)) if !ttl_close(at, e.expires_at_ms, opts.ttl_tolerance_ms) => Some(
                    format!("expiry {:?} where the source has {:?}", at, e.expires_at_ms),
                ),
                Some(_) => None,
            };
            if let Some(why) = why {
                out.mismatched += 1;
                if out.examples.len() < 10 {
                    out.examples.push(format!(
                        "{}/{}: {why}",
                        e.ns,
                        String::from_utf8_lossy(&e.key)
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Two absolute expiries agree within `tolerance` ms (both none, or both some and close).
fn ttl_close(a: Option<u64>, b: Option<u64>, tolerance: u64) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.abs_diff(y) <= tolerance,
        _ => false,
    }
}

/// The keys kept for `--verify`: all of them, or a uniform sample (reservoir) of N.
struct Sampler {
    /// What is kept.
    kept: Vec<Entry>,
    /// Entries offered so far.
    seen: u64,
    /// The bound, `None` for all.
    limit: Option<usize>,
    /// Draws for the reservoir.
    rng: rand::rngs::SmallRng,
}

impl Sampler {
    fn new(verify: Verify) -> Sampler {
        use rand::SeedableRng;
        Sampler {
            kept: Vec::new(),
            seen: 0,
            limit: match verify {
                Verify::Off => Some(0),
                Verify::Sample(n) => Some(n),
                Verify::All => None,
            },
            rng: rand::rngs::SmallRng::from_entropy(),
        }
    }

    fn offer(&mut self, e: Entry) {
        use rand::Rng;
        self.seen += 1;
        match self.limit {
            None => self.kept.push(e),
            Some(0) => {}
            Some(n) if self.kept.len() < n => self.kept.push(e),
            Some(n) => {
                let j = self.rng.gen_range(0..self.seen);
                if (j as usize) < n {
                    self.kept[j as usize] = e;
                }
            }
        }
    }

    fn into_entries(self) -> Vec<Entry> {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_become_prefixes_on_redis_and_the_default_one_none() {
        assert_eq!(redis_key("default", b"k", ":"), b"k");
        assert_eq!(redis_key("sessions", b"u:1", ":"), b"sessions:u:1");
        assert_eq!(redis_key("s", b"\xff", "/"), b"s/\xff");
    }

    #[test]
    fn a_sample_keeps_at_most_n_of_the_offered_entries() {
        let e = |i: u8| Entry {
            ns: "n".into(),
            key: vec![i],
            value: vec![],
            expires_at_ms: None,
        };
        for (verify, offered, kept) in [
            (Verify::Sample(10), 100u8, 10),
            (Verify::Sample(10), 3, 3),
            (Verify::All, 50, 50),
            (Verify::Off, 50, 0),
        ] {
            let mut s = Sampler::new(verify);
            (0..offered).for_each(|i| s.offer(e(i)));
            let got = s.into_entries();
            assert_eq!(got.len(), kept);
            let distinct: std::collections::HashSet<_> = got.iter().map(|e| &e.key).collect();
            assert_eq!(distinct.len(), kept);
        }
    }

    /// Entries whose TTL ran out before their batch was written are counted and never
    /// written (into a real SQLite file); the others are, with their expiry.
    #[test]
    fn entries_past_their_ttl_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut target = sql::Sqlite::open(path.to_str().unwrap(), "t").unwrap();
        let now = now_ms();
        let e = |key: &str, at: Option<u64>| Entry {
            ns: "n".into(),
            key: key.as_bytes().to_vec(),
            value: b"v".to_vec(),
            expires_at_ms: at,
        };
        let mut batches = vec![vec![
            e("past", Some(now - 1)),
            e("live", Some(now + 3_600_000)),
            e("forever", None),
        ]]
        .into_iter();
        let opts = Options {
            verify: Verify::All,
            ..Options::default()
        };
        let report = run(|| Ok(batches.next()), &mut target, &opts, |_| {}).unwrap();
        let n = &report.namespaces["n"];
        assert_eq!((n.read, n.written, n.skipped_expired), (3, 2, 1));
        assert_eq!(n.with_ttl, 1);
        assert_eq!(report.verify.as_ref().map(|v| v.mismatched), Some(0));
        let got = target
            .read_back(&[e("past", None), e("live", None), e("forever", None)])
            .unwrap();
        assert_eq!(got[0], None);
        assert_eq!(got[1], Some((b"v".to_vec(), Some(now + 3_600_000))));
        assert_eq!(got[2], Some((b"v".to_vec(), None)));
    }

    #[test]
    fn default_keys_that_look_namespaced_are_warned_of() {
        let e = |ns: &str, key: &str| Entry {
            ns: ns.into(),
            key: key.as_bytes().to_vec(),
            value: vec![],
            expires_at_ms: None,
        };
        let mut p = Prefixes::default();
        for k in ["sessions:1", "sessions:2", "plain", "a:b:c"] {
            p.note(&e("default", k), ":");
        }
        p.note(&e("sessions", "x:y"), ":");
        let mut report = Report::new("t".into(), false);
        for ns in ["default", "sessions", "a:b", "other"] {
            report.ns(ns);
        }
        let w = p.warnings(&report, ":");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("1 key(s) of the default namespace start with 'a:b:'"),
            "{w:?}"
        );
        assert!(w[1].starts_with("2 key(s) of the default namespace start with 'sessions:'"));
        assert!(w[1].contains("e.g. 'sessions:1'"));

        // A two-byte separator, met where its first byte also stands alone.
        let mut p = Prefixes::default();
        for k in ["a:b::1", "a:b::2", "a::b", ":a:b:", "x:::y"] {
            p.note(&e("default", k), "::");
        }
        let mut report = Report::new("t".into(), false);
        for ns in ["a:b", "a", "x", "x:", "b"] {
            report.ns(ns);
        }
        let w = p.warnings(&report, "::");
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w.iter()
                .any(|w| w.starts_with("2 key(s) of the default namespace start with 'a:b::'")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|w| w.starts_with("1 key(s) of the default namespace start with 'a::'")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|w| w.starts_with("1 key(s) of the default namespace start with 'x::'")),
            "{w:?}"
        );
    }

    #[test]
    fn expiries_compare_within_the_tolerance() {
        assert!(ttl_close(None, None, 0));
        assert!(ttl_close(Some(1000), Some(1001), 1));
        assert!(!ttl_close(Some(1000), Some(1002), 1));
        assert!(!ttl_close(Some(1000), None, 1000));
    }
}
