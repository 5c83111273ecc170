//! Store throughput: TinyKV against the obvious alternative (an exact LRU, `lru::LruCache`
//! behind a `Mutex`) and the floor (a bare `DashMap<String, Vec<u8>>`, no TTL, no caps, same
//! foldhash hasher as TinyKV), plus TinyKV under a 64 MiB `max_memory` to show what eviction
//! costs. One process, one run: every subject is filled with the same 1M keys `key:N` holding
//! 100-byte values, then each row (workload x keys x threads) is a criterion group that measures
//! the subjects back to back (all four live at once), so drift in a shared machine's load hits
//! a row's subjects alike.
//!
//! Workloads, each with uniform and Zipf(0.99) keys, on 1 and 2 threads:
//! - `get-hit`: read a present key (TinyKV reads in place through `get_with`);
//! - `get-miss`: read an absent key (`key:N` with N in 1M..2M);
//! - `set-over`: overwrite a present key (the alternatives update in place, no key allocation);
//! - `mixed-90/10`: 90% get, 10% overwrite;
//! - `set-fresh` (no key distribution): insert a never-present key `fresh:T:N`; on the uncapped
//!   subjects the inserted keys are deleted between chunks of 50k (untimed) so the map stays
//!   near 1M entries.
//!
//! `tinykv@64MiB` holds only part of the 1M keys (filled highest key first, so the resident
//! part is the Zipf-hot low keys): its gets of evicted keys miss and its sets of them insert
//! and evict. The table's last columns give its measured hit ratio and evictions per op.
//!
//! The table's times are aggregate: wall time divided by the operations of all threads, so a
//! 2-thread figure half the 1-thread one means perfect scaling. (Criterion's own `time` is per
//! iteration, one operation on each thread; its `thrpt` is aggregate operations per second.)
//! Key indices are drawn once up front (Zipf sampling is slower than the operations measured).
//! Each operation formats its key into a per-thread buffer, as an application would (a few tens
//! of ns, the same for every subject): reading 2M pre-built key strings scattered over the heap
//! cost every subject a cache miss per operation that belongs to the bench, not the store. The table's header
//! prints the load average: on a loaded 2-core machine, 2-thread figures are indicative only.
//!
//! After criterion's output, two tables of ns/op (rows: workload; columns: subject; ratio to
//! lru) are printed for pasting into notes: wall time (throughput, what criterion measures) and
//! the measuring threads' CPU time, which leaves out time the threads were descheduled (and
//! time blocked on a lock). On the loaded 2-core machine this was written on, CPU time came out
//! at 85-95% of wall time: most run-to-run noise there is contention for caches and memory,
//! which neither figure removes, so compare ratios within a row and repeat a run before
//! trusting a difference under ~1.5x. Run: `cargo bench --bench store` (add criterion flags
//! after `--`, e.g. `-- get-hit` to filter).
//!
//! Codemap: `subjects` holds the implementations under test, `table` the report; this file
//! the workloads, the key streams and the threaded runner.

mod subjects;
mod table;

use criterion::{Criterion, SamplingMode, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};
use subjects::{build, Subject, SUBJECTS};
use table::{Results, Row};

/// Keys present after the fill: `key:0` .. `key:999999`.
const KEYS: usize = 1_000_000;
/// Bytes per value.
const VALUE_LEN: usize = 100;
/// Pre-drawn key indices per distribution (a power of two, so the cursor wraps with a mask).
const STREAM: usize = 1 << 22;
/// Fresh inserts between untimed clean-ups on the uncapped subjects.
const FRESH_CHUNK: u64 = 50_000;
/// Byte cap of the `tinykv@64MiB` subject.
const CAPPED_MEMORY: u64 = 64 << 20;
/// Zipf exponent.
const ZIPF_S: f64 = 0.99;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Workload {
    GetHit,
    GetMiss,
    SetOver,
    SetFresh,
    Mixed,
}

const WORKLOADS: [(Workload, &str); 5] = [
    (Workload::GetHit, "get-hit"),
    (Workload::GetMiss, "get-miss"),
    (Workload::SetOver, "set-over"),
    (Workload::Mixed, "mixed-90/10"),
    // Last: on the capped subject it replaces the resident keys with fresh ones.
    (Workload::SetFresh, "set-fresh"),
];
const DISTS: [&str; 2] = ["uniform", "zipf"];
const THREADS: [usize; 2] = [1, 2];

/// The distributions a workload runs with, and their labels: fresh keys have no distribution.
fn dists(workload: Workload) -> &'static [(usize, &'static str)] {
    if workload == Workload::SetFresh {
        &[(0, "fresh")]
    } else {
        &[(0, DISTS[0]), (1, DISTS[1])]
    }
}
/// Everything built once and shared by all subjects.
struct Data {
    /// Pre-drawn indices into the present keys, per distribution (uniform, zipf).
    streams: [Vec<u32>; 2],
    value: Vec<u8>,
}

/// `key:N` in `buf`: present for N below `KEYS`, never written above.
fn key(buf: &mut String, n: usize) -> &str {
    buf.clear();
    let _ = write!(buf, "key:{n}");
    buf
}

/// `fresh:T:N` in `buf`: thread T's N-th fresh key.
fn fresh(buf: &mut String, t: usize, n: u64) -> &str {
    buf.clear();
    let _ = write!(buf, "fresh:{t}:{n}");
    buf
}

impl Data {
    fn new() -> Data {
        let mut rng = SmallRng::seed_from_u64(7);
        let uniform = (0..STREAM).map(|_| rng.gen_range(0..KEYS as u32)).collect();
        let zipf = Zipf::new(KEYS as u64, ZIPF_S).unwrap_or_else(|e| panic!("zipf: {e}"));
        let zipf = (0..STREAM)
            .map(|_| zipf.sample(&mut rng) as u32 - 1)
            .collect();
        Data {
            streams: [uniform, zipf],
            value: vec![b'v'; VALUE_LEN],
        }
    }
}

/// Timed wall time, and the CPU time the measuring threads spent in the timed loops.
#[derive(Clone, Copy, Default)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// CPU time of the calling thread.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is always supported
    // on Linux and macOS.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time of the calling thread (kernel and user, from `GetThreadTimes`).
#[cfg(windows)]
fn thread_cpu() -> Duration {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{GetCurrentThread, GetThreadTimes};
    let zero = || FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero(), zero(), zero(), zero());
    // SAFETY: the calling thread's pseudo-handle is always valid; the call writes only the four
    // FILETIMEs it is given (left at zero if it fails).
    unsafe {
        GetThreadTimes(
            GetCurrentThread(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    // FILETIME counts 100 ns ticks.
    Duration::from_nanos((ticks(kernel) + ticks(user)) * 100)
}

/// Run `iters` operations on each of `threads` threads, timed in chunks of `chunk` with
/// `after_chunk(thread, range)` untimed in between.
fn run_threads(
    threads: usize,
    iters: u64,
    chunk: u64,
    op: impl Fn(&mut String, usize, u64) + Sync,
    after_chunk: impl Fn(&mut String, usize, std::ops::Range<u64>) + Sync,
) -> Timing {
    let barrier = Barrier::new(threads);
    let timed = Mutex::new(Timing::default());
    std::thread::scope(|s| {
        for t in 0..threads {
            let (barrier, timed, op, after_chunk) = (&barrier, &timed, &op, &after_chunk);
            s.spawn(move || {
                let mut buf = String::with_capacity(32);
                let mut start = 0;
                while start < iters {
                    let end = (start + chunk).min(iters);
                    barrier.wait();
                    let t0 = Instant::now();
                    let c0 = thread_cpu();
                    for i in start..end {
                        op(&mut buf, t, i);
                    }
                    let cpu = thread_cpu().saturating_sub(c0);
                    barrier.wait();
                    let mut timed = timed.lock().unwrap_or_else(|e| e.into_inner());
                    if t == 0 {
                        timed.wall += t0.elapsed();
                    }
                    timed.cpu += cpu;
                    drop(timed);
                    after_chunk(&mut buf, t, start..end);
                    start = end;
                }
            });
        }
    });
    timed.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// A subject under test and its column name.
type Named = (&'static str, Box<dyn Subject>);

/// Build every subject and fill it with the 1M keys.
fn build_all(data: &Data) -> Vec<Named> {
    SUBJECTS
        .iter()
        .map(|&name| {
            let subject = build(name);
            let fill = Instant::now();
            // Highest first, so a capped subject keeps the low (Zipf-hot) keys, as a warm cache
            // would.
            let mut buf = String::new();
            for n in (0..KEYS).rev() {
                subject.set(key(&mut buf, n), &data.value);
            }
            eprintln!("{name}: filled {KEYS} keys in {:.2?}", fill.elapsed());
            (name, subject)
        })
        .collect()
}

/// One criterion group per row, every subject measured back to back in it, so drift in the
/// machine's load hits the subjects of a row alike.
fn bench_all(c: &mut Criterion, subjects: &[Named], data: &Data, results: &mut Results) {
    for (workload, wname) in WORKLOADS {
        // One cursor per subject and workload, so the 2-thread run continues where the
        // 1-thread run stopped (fresh names stay fresh on the capped subject, which keeps what
        // it inserts).
        let cursors: Vec<AtomicU64> = subjects.iter().map(|_| AtomicU64::new(0)).collect();
        for &(d, dname) in dists(workload) {
            for threads in THREADS {
                let row = (workload, d, threads);
                let mut group = c.benchmark_group(format!("{wname}/{dname}/{threads}t"));
                group.sampling_mode(SamplingMode::Flat);
                group.throughput(Throughput::Elements(threads as u64));
                for ((name, subject), cursor) in subjects.iter().zip(&cursors) {
                    let before = subject.counters();
                    let samples = results.samples.entry((row, name)).or_default();
                    group.bench_function(*name, |b| {
                        b.iter_custom(|iters| {
                            let base = cursor.fetch_add(iters, Relaxed);
                            let d = run_row(&**subject, data, row, base, iters);
                            samples.push((iters, d));
                            d.wall
                        })
                    });
                    if let (Some(a), Some(b)) = (before, subject.counters()) {
                        if subject.bounded() {
                            let delta = (b.0 - a.0, b.1 - a.1, b.2 - a.2);
                            results.counters.insert(row, delta);
                        }
                    }
                }
                group.finish();
            }
        }
    }
}

/// `iters` operations of `row` on each thread, starting at stream position `base`.
fn run_row(subject: &dyn Subject, data: &Data, row: Row, base: u64, iters: u64) -> Timing {
    let (workload, d, threads) = row;
    let stream = &data.streams[d];
    // Threads start at different points of the stream.
    let pick =
        |t: usize, i: u64| stream[((base + i) as usize + t * (STREAM / 2)) & (STREAM - 1)] as usize;
    let value = &data.value[..];
    let clean = !subject.bounded() && workload == Workload::SetFresh;
    let chunk = if clean { FRESH_CHUNK } else { iters };
    run_threads(
        threads,
        iters,
        chunk,
        |buf, t, i| match workload {
            Workload::GetHit => {
                subject.get(key(buf, pick(t, i)));
            }
            Workload::GetMiss => {
                subject.get(key(buf, pick(t, i) + KEYS));
            }
            Workload::SetOver => subject.set(key(buf, pick(t, i)), value),
            Workload::SetFresh => subject.set(fresh(buf, t, base + i), value),
            Workload::Mixed if (base + i).is_multiple_of(10) => {
                subject.set(key(buf, pick(t, i)), value)
            }
            Workload::Mixed => {
                subject.get(key(buf, pick(t, i)));
            }
        },
        |buf, t, range| {
            if clean {
                range.for_each(|i| subject.remove(fresh(buf, t, base + i)));
            }
        },
    )
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .nresamples(10_000)
        // Plotting takes longer than the analysis on a busy 2-core machine; the table is the
        // report.
        .without_plots()
        .configure_from_args();
    let load_before = load_average();
    let data = Data::new();
    let mut results = Results::default();
    let subjects = build_all(&data);
    bench_all(&mut c, &subjects, &data, &mut results);
    drop(subjects);
    c.final_summary();
    let load = format!("at start {load_before}, at end {}", load_average());
    results.print(&load);
}

/// The first three fields of /proc/loadavg, or "?" where there is none.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".to_string(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}
