// What every benchmark JSON file says about its run: the machine, the date, the git commit, the
// command, and the load when it started (the 1-minute load average, and the share of the CPUs busy
// in the second before: the machine is shared, so a number taken under load must say so). The JS harnesses import runInfo/writeReport; the shell scripts and the Rust
// hit-ratio bench use the CLI:
//   node benchmark/report/run-info.mjs start "<command>"   prints the run record as JSON
//   node benchmark/report/run-info.mjs write FILE          reads {harness, run, params, results}
//                                                           on stdin, adds the load at the end,
//                                                           checks it and writes FILE
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

/** The 1-, 5- and 15-minute load averages, to two decimals. */
export const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100)

/** Busy and total CPU time of the whole machine so far, from /proc/stat (null elsewhere). */
export function cpuTimes() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = f[3] + (f[4] ?? 0) // idle + iowait
    const total = f.reduce((a, b) => a + b, 0)
    return { busy: total - idle, total }
  } catch {
    return null
  }
}

/**
 * The share of all cores busy over the next `ms` milliseconds (0-1, two decimals), or null
 * without /proc/stat. The 1-minute load average trails by a minute (a bench that just ended
 * still shows in it); this says whether other work is running now.
 */
export function cpuBusy(ms = 1000) {
  const a = cpuTimes()
  if (!a) return null
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
  const b = cpuTimes()
  const total = b.total - a.total
  return total > 0 ? Math.round(((b.busy - a.busy) / total) * 100) / 100 : null
}

/** The machine, as a chart's subtitle names it. */
export function machine() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  }
}

/**
 * A file the run measured (the daemon binary, the addon), so a reader can tell which build it
 * was: its path in the repository, size, modification time and a SHA-256 prefix.
 */
export function artifact(path) {
  const abs = resolve(root, path)
  const st = statSync(abs)
  const sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16)
  const rel = relative(root, abs)
  return { path: rel.startsWith('..') ? abs : rel, bytes: st.size, modified: st.mtime.toISOString(), sha256 }
}

/**
 * The run record, taken at the start of a run. `dirty` says whether tracked files that can change
 * a measurement differed from the commit (the numbers then belong to uncommitted code).
 */
export function runInfo(command, artifacts = []) {
  // The report's own code, its tests and docs do not change what a harness measures.
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)docs', ':(exclude)__test__', ':(exclude)benchmark/report')
  return {
    date: new Date().toISOString(),
    commit: git('rev-parse', 'HEAD'),
    dirty: dirty === null ? null : dirty.length > 0,
    command,
    machine: machine(),
    loadavgStart: loadavg(),
    cpuBusyStart: cpuBusy(),
    artifacts: artifacts.map(artifact),
  }
}

/** The version of an installed npm package (for packages whose exports hide package.json). */
export function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(resolve(root, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}

/** The command line a JS harness was started with, with the BENCH_* settings it read. */
export function harnessCommand(script, env = process.env) {
  const settings = Object.keys(env)
    .filter((k) => k.startsWith('BENCH_') && k !== 'BENCH_JSON')
    .sort()
    .map((k) => `${k}=${env[k]}`)
  return [...settings, 'node', script, ...process.argv.slice(2)].join(' ')
}

/** Throws unless `doc` has what every chart needs. */
export function checkReport(doc, where = 'report') {
  const missing = []
  if (typeof doc?.harness !== 'string') missing.push('harness')
  for (const k of ['date', 'commit', 'command', 'machine', 'loadavgStart']) if (doc?.run?.[k] == null) missing.push(`run.${k}`)
  if (doc?.results == null) missing.push('results')
  if (missing.length) throw new Error(`${where}: missing ${missing.join(', ')}`)
  return doc
}

/** Adds the load at the end, checks the document and writes it whole (temp file, then rename). */
export function writeReport(file, doc) {
  const out = { ...doc, run: { ...doc.run, loadavgEnd: loadavg() } }
  checkReport(out, file)
  mkdirSync(dirname(resolve(file)), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(out, null, 2) + '\n')
  renameSync(tmp, file)
  process.stderr.write(`wrote ${file}\n`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, arg, ...rest] = process.argv.slice(2)
  if (cmd === 'start' && arg) {
    process.stdout.write(JSON.stringify(runInfo(arg, rest)) + '\n')
  } else if (cmd === 'write' && arg) {
    const input = readFileSync(0, 'utf8')
    let doc
    try {
      doc = JSON.parse(input)
    } catch (e) {
      console.error(`run-info write: stdin is not JSON (${e.message})`)
      process.exit(1)
    }
    try {
      writeReport(arg, doc)
    } catch (e) {
      console.error(`run-info write: ${e.message}`)
      process.exit(1)
    }
  } else {
    console.error('usage: run-info.mjs start "<command>" [artifact...] | run-info.mjs write FILE < doc.json')
    process.exit(2)
  }
}
