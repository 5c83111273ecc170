//! Hit-ratio simulation: the same traces replayed through TinyKV (each eviction policy this
//! build knows) and through an exact LRU (`lru::LruCache`) at the same entry cap, cache-aside
//! (get; on a miss, set). Requests before the warm-up mark are replayed but not counted.
//!
//! Traces (seeded, so every run replays the same requests; `HIT_RATIO_SEED=n` picks another
//! seed, default 42, to see how much a result owes to one draw):
//! - (a) Zipf(0.99) over 1M keys, 3M requests, first 1M are warm-up; cap 100k entries.
//! - (b) scan-polluted: the same Zipf working set (3M requests, first 1M warm-up), and after
//!   every 50k working-set requests a one-off sequential scan of 20k-50k (uniform) fresh keys
//!   that never recur, as a batch job or crawler walking a table would; cap 100k entries.
//!   Scan requests miss under every policy; the table shows the ratio over all counted requests
//!   and over the working-set requests alone.
//!
//! Policies are looked up by name at run time (`"lfu".parse::<EvictionPolicy>()`), so a build
//! without LFU prints `n/a` in that column instead of failing to compile.
//! Run: `cargo bench --bench hit_ratio`. `BENCH_JSON=FILE` also writes the table, with the
//! machine and the run (from `benchmark/report/run-info.mjs`, so it needs node), to FILE for
//! docs/benchmarks.md's charts.

use lru::LruCache;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use std::fmt::Write;
use std::io::Write as _;
use std::num::NonZeroUsize;
use std::process::{Command, Stdio};
use std::time::Instant;
use tinykv::store::{Config, EvictionPolicy, Ns, SetOptions, Store, Value};

/// Working-set keys.
const KEYS: u64 = 1_000_000;
/// Zipf exponent of the working set.
const ZIPF_S: f64 = 0.99;
/// Entry cap of every cache.
const CAP: usize = 100_000;
/// Working-set requests per trace.
const REQUESTS: usize = 3_000_000;
/// Working-set requests before counting starts.
const WARMUP: usize = 1_000_000;
/// Working-set requests between two scans in trace (b).
const SCAN_EVERY: usize = 50_000;
/// Shortest and longest scan, in fresh keys.
const SCAN_LEN: std::ops::RangeInclusive<u32> = 20_000..=50_000;
/// TinyKV policies to try, by the names the daemon and the addon accept.
const POLICIES: [&str; 2] = ["lru", "lfu"];

/// A request: key id; ids at or above `KEYS` are scan keys.
type Trace = Vec<u32>;

/// A trace and the index of its first counted request.
struct Named {
    name: &'static str,
    trace: Trace,
    warmup_end: usize,
}

fn zipf_trace(seed: u64) -> Named {
    let zipf = Zipf::new(KEYS, ZIPF_S).unwrap_or_else(|e| panic!("zipf: {e}"));
    let mut rng = SmallRng::seed_from_u64(seed);
    Named {
        name: "(a) zipf",
        trace: (0..REQUESTS)
            .map(|_| zipf.sample(&mut rng) as u32 - 1)
            .collect(),
        warmup_end: WARMUP,
    }
}

fn scan_trace(seed: u64) -> Named {
    let zipf = Zipf::new(KEYS, ZIPF_S).unwrap_or_else(|e| panic!("zipf: {e}"));
    let mut rng = SmallRng::seed_from_u64(seed + 1);
    let mut trace = Vec::with_capacity(REQUESTS * 2);
    let mut next_scan_key = KEYS as u32;
    let mut warmup_end = 0;
    for i in 0..REQUESTS {
        if i == WARMUP {
            warmup_end = trace.len();
        }
        if i > 0 && i % SCAN_EVERY == 0 {
            let len = rng.gen_range(SCAN_LEN);
            trace.extend(next_scan_key..next_scan_key + len);
            next_scan_key += len;
        }
        trace.push(zipf.sample(&mut rng) as u32 - 1);
    }
    Named {
        name: "(b) zipf+scans",
        trace,
        warmup_end,
    }
}

/// Hits and requests after warm-up: (all hits, all requests, working-set hits, working-set
/// requests).
#[derive(Clone, Copy, Default)]
struct Count {
    hits: u64,
    reqs: u64,
    ws_hits: u64,
    ws_reqs: u64,
}

impl Count {
    fn all(&self) -> f64 {
        self.hits as f64 * 100.0 / self.reqs.max(1) as f64
    }
    fn ws(&self) -> f64 {
        self.ws_hits as f64 * 100.0 / self.ws_reqs.max(1) as f64
    }
}

/// Cache-aside replay; `get_or_put(id)` reads, writes on a miss, and says whether it hit.
fn replay(t: &Named, mut get_or_put: impl FnMut(u32) -> bool) -> Count {
    let mut c = Count::default();
    for (i, &id) in t.trace.iter().enumerate() {
        let hit = get_or_put(id);
        if i >= t.warmup_end {
            let ws = u64::from(id < KEYS as u32);
            let hit = u64::from(hit);
            c.reqs += 1;
            c.hits += hit;
            c.ws_reqs += ws;
            c.ws_hits += ws * hit;
        }
    }
    c
}

/// Which ratio a table row shows.
type Ratio = fn(&Count) -> f64;

fn exact_lru(t: &Named) -> Count {
    let cap = NonZeroUsize::new(CAP).unwrap_or(NonZeroUsize::MIN);
    let mut cache = LruCache::new(cap);
    replay(t, |id| {
        if cache.get(&id).is_some() {
            true
        } else {
            cache.put(id, [0u8; 16]);
            false
        }
    })
}

/// TinyKV under `policy`, or `None` when this build does not know the policy.
fn tinykv(t: &Named, policy: &str) -> Option<Count> {
    let eviction_policy = policy.parse::<EvictionPolicy>().ok()?;
    let config = Config {
        max_entries: Some(CAP),
        eviction_policy,
        ..Config::default()
    };
    let store = Store::new(config).unwrap_or_else(|e| panic!("store config: {e}"));
    let mut key = String::new();
    let count = replay(t, |id| {
        key.clear();
        let _ = write!(key, "key:{id}");
        if store.get_with((Ns::DEFAULT, &key), |_| ()).is_some() {
            return true;
        }
        let value = Value::Bytes(vec![0; 16]);
        if let Err(e) = store.set(Ns::DEFAULT, &key, value, &SetOptions::default()) {
            panic!("set under {policy}: {e}");
        }
        false
    });
    assert!(store.total_len() <= CAP, "cap broken under {policy}");
    Some(count)
}

/// The repository's run-record script, which every benchmark JSON file shares.
fn run_info_script() -> String {
    format!(
        "{}/benchmark/report/run-info.mjs",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The run record (machine, date, commit, load average), taken before the traces are built.
fn run_info(seed: u64) -> serde_json::Value {
    let command = format!("HIT_RATIO_SEED={seed} cargo bench --bench hit_ratio");
    let out = Command::new("node")
        .args([run_info_script().as_str(), "start", command.as_str()])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("BENCH_JSON needs node: {e}"));
    assert!(out.status.success(), "run-info.mjs start failed");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("run-info.mjs start: {e}"))
}

/// Hands the finished document to run-info.mjs, which adds the closing load average, checks it
/// and writes `path` whole.
fn write_json(path: &str, doc: &serde_json::Value) {
    let mut child = Command::new("node")
        .args([run_info_script().as_str(), "write", path])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("BENCH_JSON needs node: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(doc.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("run-info.mjs write: {e}"));
    }
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("run-info.mjs write: {e}"));
    assert!(status.success(), "run-info.mjs write failed");
}

fn main() {
    let started = Instant::now();
    let seed = std::env::var("HIT_RATIO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let json_out = std::env::var("BENCH_JSON").ok().filter(|p| !p.is_empty());
    let info = json_out.as_ref().map(|_| run_info(seed));
    let mut json_rows = Vec::new();
    let traces = [zipf_trace(seed), scan_trace(seed)];
    println!("Hit ratio, cache-aside (get; set on miss), cap {CAP} entries, warm-up excluded");
    println!("(a) zipf s={ZIPF_S} over {KEYS} keys, {REQUESTS} requests, first {WARMUP} warm-up");
    println!(
        "(b) same working set; after every {SCAN_EVERY} working-set requests a scan of \
         {}-{} fresh never-repeated keys; {} requests in all, warm-up = before working-set \
         request {WARMUP}",
        SCAN_LEN.start(),
        SCAN_LEN.end(),
        traces[1].trace.len()
    );
    println!("seed {seed}; hit% (points vs exact LRU)");
    print!("{:<26} {:>10}", "trace", "exact-lru");
    for p in POLICIES {
        print!(" {:>18}", format!("tinykv-{p}"));
    }
    println!();
    for t in &traces {
        let exact = exact_lru(t);
        let ours: Vec<_> = POLICIES.iter().map(|p| tinykv(t, p)).collect();
        let mut rows: Vec<(String, Ratio)> = vec![(t.name.into(), Count::all)];
        if t.trace.iter().any(|&id| id >= KEYS as u32) {
            rows = vec![
                (format!("{} all reqs", t.name), Count::all),
                (format!("{} ws reqs", t.name), Count::ws),
            ];
        }
        for (label, ratio) in rows {
            let e = ratio(&exact);
            json_rows.push(serde_json::json!({
                "trace": t.name,
                "row": label,
                "exactLru": e,
                "tinykv": POLICIES.iter().zip(&ours)
                    .map(|(p, c)| (p.to_string(), c.as_ref().map(ratio).into()))
                    .collect::<serde_json::Map<String, serde_json::Value>>(),
            }));
            print!("{label:<26} {:>9.2}%", e);
            for c in &ours {
                let cell = match c {
                    Some(c) => format!("{:.2}% ({:+.2})", ratio(c), ratio(c) - e),
                    None => "n/a".into(),
                };
                print!(" {cell:>18}");
            }
            println!();
        }
    }
    println!("({:.1?})", started.elapsed());
    if let (Some(path), Some(info)) = (json_out, info) {
        let doc = serde_json::json!({
            "harness": "hit_ratio",
            "run": info,
            "params": {
                "seed": seed, "cap": CAP, "keys": KEYS, "zipf": ZIPF_S, "requests": REQUESTS,
                "warmup": WARMUP, "scanEvery": SCAN_EVERY,
                "scanLen": [SCAN_LEN.start(), SCAN_LEN.end()],
                "scanTraceRequests": traces[1].trace.len(),
            },
            // Hit % after warm-up: exact LRU, then each TinyKV policy (null: not in this build).
            "results": { "rows": json_rows },
        });
        write_json(&path, &doc);
    }
}
