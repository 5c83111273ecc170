//! The report: ns/op per row and subject, from the samples criterion asked for, printed as
//! tables with ratios to lru.

use crate::{dists, Timing, Workload, SUBJECTS, THREADS, WORKLOADS, ZIPF_S};
use std::collections::BTreeMap;

/// One row of the table: workload, distribution index, threads.
pub type Row = (Workload, usize, usize);

/// Per (row, subject): every (iters, time) criterion asked for, and TinyKV counter deltas.
#[derive(Default)]
pub struct Results {
    pub samples: BTreeMap<(Row, &'static str), Vec<(u64, Timing)>>,
    pub counters: BTreeMap<Row, (u64, u64, u64)>,
}

/// Which time a table shows.
#[derive(Clone, Copy, PartialEq)]
enum Metric {
    Wall,
    Cpu,
}

impl Results {
    /// Mean ns/op over the measurement samples: in flat sampling mode they all share the last
    /// call's iteration count (warm-up calls come first and double each time).
    fn ns_per_op(&self, row: Row, name: &'static str, metric: Metric) -> Option<f64> {
        let samples = self.samples.get(&(row, name))?;
        let &(last, _) = samples.last()?;
        let (n, t) = samples.iter().filter(|(iters, _)| *iters == last).fold(
            (0u64, 0f64),
            |(n, t), (i, d)| {
                let d = if metric == Metric::Wall {
                    d.wall
                } else {
                    d.cpu
                };
                (n + i, t + d.as_secs_f64())
            },
        );
        Some(t * 1e9 / (n * row.2 as u64) as f64)
    }

    pub fn print(&self, load: &str) {
        println!();
        println!("TinyKV store bench: 1M keys \"key:N\", 100-byte values, zipf s={ZIPF_S}");
        println!("load average (1 5 15 min) {load}");
        println!("(x) = ns/op / lru's; tinykv@64MiB holds only part of the keys (last columns)");
        println!();
        println!(
            "wall ns/op, aggregate over threads (throughput; includes time other processes take)"
        );
        self.print_table(Metric::Wall);
        println!();
        println!(
            "cpu ns/op (thread CPU time in the timed loops / ops: leaves out time descheduled"
        );
        println!("and time blocked, e.g. waiting for lru's mutex)");
        self.print_table(Metric::Cpu);
    }

    fn print_table(&self, metric: Metric) {
        print!("{:<12} {:<8} {:>3}", "workload", "keys", "thr");
        for name in SUBJECTS {
            print!("  {name:>15}");
        }
        println!("  {:>20}", "64MiB: hit%  evict/op");
        for (workload, wname) in WORKLOADS {
            for &(d, dname) in dists(workload) {
                for threads in THREADS {
                    let row = (workload, d, threads);
                    let ns = |name| self.ns_per_op(row, name, metric);
                    if SUBJECTS.iter().all(|s| ns(s).is_none()) {
                        continue;
                    }
                    print!("{wname:<12} {dname:<8} {threads:>3}");
                    for name in SUBJECTS {
                        let cell = match (ns(name), ns("lru")) {
                            (None, _) => "-".to_string(),
                            (Some(ns), Some(l)) if name != "lru" => {
                                format!("{ns:.1} ({:.2}x)", ns / l)
                            }
                            (Some(ns), _) => format!("{ns:.1}"),
                        };
                        print!("  {cell:>15}");
                    }
                    if let Some(&(h, m, e)) = self.counters.get(&row) {
                        let ops = (h + m).max(1) as f64;
                        let hit = if h + m > 0 {
                            format!("{:.0}%", h as f64 * 100.0 / ops)
                        } else {
                            "-".to_string()
                        };
                        let all = self.samples_ops(row, "tinykv@64MiB").max(1) as f64;
                        print!("  {hit:>10}  {:>8.2}", e as f64 / all);
                    }
                    println!();
                }
            }
        }
    }

    /// Operations run on `name` for `row`, warm-up included (counters cover the warm-up too).
    fn samples_ops(&self, row: Row, name: &'static str) -> u64 {
        let threads = row.2 as u64;
        self.samples
            .get(&(row, name))
            .map_or(0, |s| s.iter().map(|(i, _)| i * threads).sum())
    }
}
