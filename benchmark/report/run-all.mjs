// Runs the benchmark harnesses behind docs/benchmarks.md, each writing its JSON into
// docs/benchmarks/data/, then leaves the charts to render.mjs. Usage:
//   node benchmark/report/run-all.mjs [--only addon,daemon,...] [--max-wait 180] [--busy 0.25]
// The machine is shared: before each harness this waits (at most --max-wait seconds) until the
// CPUs are less than --busy busy over a few seconds, and goes ahead regardless after that (the
// chart then says the run was taken under load). Each harness is killed after --timeout seconds.
// Afterwards it adds to the harness's JSON the share of the CPUs that other processes used while
// it ran (sampled from /proc, see watchOthers), since work that starts after the harness does
// shows in neither the load at start nor the numbers themselves.
// The daemon, persistence and migration benches use target/release/tinykv (or $TINYKV_BIN):
// build it first with `cargo build --release --bin tinykv`.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { cpuBusy, cpuTimes, loadavg } from './run-info.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const data = join(root, 'docs/benchmarks/data')

// Each harness at its documented defaults, except where noted: a set that stays well under 30
// minutes on two cores.
const HARNESSES = {
  addon: { cmd: ['node', 'benchmark/bench.mjs'] },
  daemon: { cmd: ['scripts/bench-daemon.sh'] },
  hit_ratio: { cmd: ['cargo', 'bench', '--bench', 'hit_ratio'] },
  persist: { cmd: ['scripts/bench-persist.sh'] },
  migrate: { cmd: ['scripts/bench-migrate.sh'] },
  client: { cmd: ['node', 'benchmark/client.mjs'] },
  workers: { cmd: ['node', 'benchmark/workers.mjs'], env: { BENCH_OPS: '1000000' } },
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'max-wait': { type: 'string', default: '180' },
    busy: { type: 'string', default: '0.25' },
    timeout: { type: 'string', default: '900' },
  },
})
const names = values.only ? values.only.split(',') : Object.keys(HARNESSES)
for (const n of names) if (!HARNESSES[n]) throw new Error(`unknown harness "${n}" (known: ${Object.keys(HARNESSES).join(', ')})`)
const bin = process.env.TINYKV_BIN ?? join(root, 'target/release/tinykv')
if (!existsSync(bin)) throw new Error(`${bin} not found: run cargo build --release --bin tinykv (or set TINYKV_BIN)`)

/** Waits until the CPUs are less than `share` busy, for at most `maxS` seconds. */
async function quiet(share, maxS) {
  const until = Date.now() + maxS * 1000
  for (;;) {
    const busy = cpuBusy(3000)
    if (busy == null || busy < share) return busy
    if (Date.now() >= until) {
      console.error(`  still ${Math.round(busy * 100)}% busy after ${maxS} s; going ahead (the chart will say so)`)
      return busy
    }
    console.error(`  CPUs ${Math.round(busy * 100)}% busy (load ${loadavg()[0]}); waiting`)
    await new Promise((r) => setTimeout(r, 10_000))
  }
}

let lastOthers = null
function run(name, { cmd, env = {} }, timeoutS) {
  const out = join(data, `${name}.json`)
  return new Promise((ok, fail) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: root, stdio: 'inherit', detached: true, env: { ...process.env, TINYKV_BIN: bin, ...env, BENCH_JSON: out } })
    const others = watchOthers(child.pid)
    const timer = setTimeout(() => {
      console.error(`${name}: over ${timeoutS} s, stopping it`)
      process.kill(-child.pid, 'SIGTERM') // its own process group: the harness and what it started
    }, timeoutS * 1000)
    child.once('error', fail)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      lastOthers = others()
      if (code === 0) ok(out)
      else fail(new Error(`${name} failed (${signal ?? `exit ${code}`}); ${out} left as it was`))
    })
  })
}

/**
 * CPU ticks used by processes outside the harness while it runs, sampled from /proc every
 * second. The harness runs in a session of its own (spawned detached), so everything it starts
 * shares that session id, even daemons a script left to init; those are ours, the rest is other
 * work. A process born during the run counts from zero; each loses at most its last second.
 */
function watchOthers(session) {
  const start = cpuTimes()
  const seen = new Map() // pid -> [ticks at first sight (0 if born during the run), last ticks]
  // Now, in the clock ticks since boot that /proc/PID/stat's start times count (USER_HZ, 100).
  const runStartTicks = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100
  const sample = (first) => {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
      let stat
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      } catch {
        continue // exited since the listing
      }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(f[3]) === session) continue
      const ticks = Number(f[11]) + Number(f[12])
      const prev = seen.get(name)
      if (prev) prev[1] = ticks
      else seen.set(name, [first || Number(f[19]) < runStartTicks ? ticks : 0, ticks])
    }
  }
  sample(true)
  const timer = setInterval(() => sample(false), 1000)
  return () => {
    clearInterval(timer)
    sample(false)
    const end = cpuTimes()
    let others = 0
    for (const [from, to] of seen.values()) others += to - from
    return start && end ? Math.min(1, others / (end.total - start.total)) : null
  }
}

/** Records in the harness's JSON the share of the CPUs other processes used during its run. */
function addOthers(file, share) {
  if (share == null) return
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  doc.run.othersBusyDuring = Math.round(share * 100) / 100
  writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 2) + '\n')
  renameSync(`${file}.tmp`, file)
  console.error(`  other processes used ${Math.round(share * 100)}% of the CPUs during the run`)
}

const failed = []
for (const name of names) {
  console.error(`== ${name}`)
  await quiet(Number(values.busy), Number(values['max-wait']))
  const t = Date.now()
  try {
    const file = await run(name, HARNESSES[name], Number(values.timeout))
    addOthers(file, lastOthers)
    console.error(`== ${name}: ${((Date.now() - t) / 1000).toFixed(0)} s`)
  } catch (e) {
    console.error(e.message)
    failed.push(name)
  }
}
if (failed.length) {
  console.error(`failed: ${failed.join(', ')}`)
  process.exit(1)
}
console.error('now: npm run bench:report')
