// The benchmark report's charts: render.mjs regenerates every chart docs/benchmarks.md shows from
// the committed JSON (no benchmark runs here), each as valid SVG that carries its title and names
// the machine and the run; bad data is a clear error that leaves no chart half-written.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'

const root = resolve(import.meta.dirname, '..')
const render = join(root, 'benchmark/report/render.mjs')
const runInfo = join(root, 'benchmark/report/run-info.mjs')
const committedData = join(root, 'docs/benchmarks/data')
const page = readFileSync(join(root, 'docs/benchmarks.md'), 'utf8')
/** [alt text, file] of every chart the page shows: ![title](benchmarks/NAME.svg). */
const charts = [...page.matchAll(/!\[([^\]]+)\]\(benchmarks\/([\w.-]+\.svg)\)/g)].map((m) => [m[1], m[2]])

function renderInto(dataDir) {
  const out = mkdtempSync(join(tmpdir(), 'tinykv-bench-report-'))
  const r = spawnSync(process.execPath, [render, '--data', dataDir, '--out', out], { encoding: 'utf8' })
  return { out, status: r.status, stderr: r.stderr, stdout: r.stdout }
}

/** Every piece of text an SVG shows, entities decoded. */
function texts(svg) {
  const found = []
  const walk = (node) => {
    if (typeof node === 'string' || typeof node === 'number') found.push(String(node))
    else if (Array.isArray(node)) node.forEach(walk)
    else if (node && typeof node === 'object') Object.values(node).forEach(walk)
  }
  walk(new XMLParser({ ignoreAttributes: true }).parse(svg))
  return found.join('\n')
}

test('docs/benchmarks.md shows the charts, one per harness at least', () => {
  const files = charts.map(([, f]) => f)
  assert.equal(new Set(files).size, files.length, 'a chart is shown twice')
  for (const want of ['addon-ops.svg', 'addon-memory.svg', 'daemon-rps.svg', 'hit-ratio.svg', 'persist-snapshot.svg', 'migrate.svg']) {
    assert.ok(files.includes(want), `docs/benchmarks.md does not show ${want}`)
  }
})

test('every chart the page shows is rendered from the committed JSON as valid SVG with its title, machine and run', () => {
  const { out, status, stderr } = renderInto(committedData)
  try {
    assert.equal(status, 0, stderr)
    for (const [title, file] of charts) {
      const path = join(out, file)
      assert.ok(existsSync(path), `${file} was not rendered`)
      const svg = readFileSync(path, 'utf8')
      assert.equal(XMLValidator.validate(svg), true, `${file} is not well-formed XML`)
      const tree = new XMLParser({ ignoreAttributes: false }).parse(svg)
      assert.equal(tree.svg?.['@_xmlns'], 'http://www.w3.org/2000/svg', `${file} is not an SVG document`)
      const shown = texts(svg)
      assert.ok(shown.includes(title), `${file} does not show its title "${title}"`)
    }
    // Each harness's charts name the machine and the run they came from.
    const shownBy = Object.fromEntries(charts.map(([, f]) => [f, texts(readFileSync(join(out, f), 'utf8'))]))
    for (const file of readdirSync(committedData).filter((f) => f.endsWith('.json'))) {
      const doc = JSON.parse(readFileSync(join(committedData, file), 'utf8'))
      const prefix = { addon: 'addon-', daemon: 'daemon-', hit_ratio: 'hit-ratio', persist: 'persist-', migrate: 'migrate', client: 'client', workers: 'workers' }[doc.harness]
      const mine = Object.keys(shownBy).filter((f) => f.startsWith(prefix))
      assert.ok(mine.length > 0, `no chart on the page comes from ${file}`)
      for (const f of mine) {
        assert.ok(shownBy[f].includes(doc.run.machine.cpu), `${f} does not name the CPU`)
        assert.ok(shownBy[f].includes(`${doc.run.machine.cores} cores`), `${f} does not name the core count`)
        assert.ok(shownBy[f].includes(doc.run.commit.slice(0, 7)), `${f} does not name the commit`)
        assert.ok(shownBy[f].includes(doc.run.date.slice(0, 10)), `${f} does not name the date`)
        assert.ok(shownBy[f].includes(doc.run.command), `${f} does not name the command`)
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('the committed charts are what the committed JSON renders to', () => {
  const { out, status, stderr } = renderInto(committedData)
  try {
    assert.equal(status, 0, stderr)
    for (const [, file] of charts) {
      const committed = readFileSync(join(root, 'docs/benchmarks', file), 'utf8')
      assert.equal(committed, readFileSync(join(out, file), 'utf8'), `docs/benchmarks/${file} is stale: run npm run bench:report`)
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('a data file without its run record is refused by name, and no chart is written', () => {
  const data = mkdtempSync(join(tmpdir(), 'tinykv-bench-data-'))
  try {
    cpSync(committedData, data, { recursive: true })
    const daemon = JSON.parse(readFileSync(join(data, 'daemon.json'), 'utf8'))
    delete daemon.run.commit
    writeFileSync(join(data, 'daemon.json'), JSON.stringify(daemon))
    const r = renderInto(data)
    assert.equal(r.status, 1)
    assert.match(r.stderr, /daemon\.json: missing run\.commit/)
    assert.deepEqual(readdirSync(r.out), [])
    rmSync(r.out, { recursive: true, force: true })

    cpSync(join(committedData, 'daemon.json'), join(data, 'daemon.json'))
    rmSync(join(data, 'migrate.json'))
    const gone = renderInto(data)
    assert.equal(gone.status, 1)
    assert.match(gone.stderr, /migrate\.json: not found \(make it with: BENCH_JSON=\S+ scripts\/bench-migrate\.sh\)/)
    rmSync(gone.out, { recursive: true, force: true })
  } finally {
    rmSync(data, { recursive: true, force: true })
  }
})

test('run-info.mjs records the machine and load, and refuses to write a document without them', () => {
  const start = spawnSync(process.execPath, [runInfo, 'start', 'echo test'], { encoding: 'utf8' })
  assert.equal(start.status, 0, start.stderr)
  const run = JSON.parse(start.stdout)
  assert.equal(run.command, 'echo test')
  assert.match(run.commit, /^[0-9a-f]{40}$/)
  assert.ok(run.machine.cores >= 1 && run.machine.memoryGiB >= 1 && run.machine.cpu.length > 0)
  assert.equal(run.loadavgStart.length, 3)
  assert.ok(run.cpuBusyStart >= 0 && run.cpuBusyStart <= 1)

  const dir = mkdtempSync(join(tmpdir(), 'tinykv-run-info-'))
  try {
    const file = join(dir, 'x.json')
    const bad = spawnSync(process.execPath, [runInfo, 'write', file], { input: JSON.stringify({ harness: 'x', results: {} }), encoding: 'utf8' })
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /missing run\.date, run\.commit, run\.command, run\.machine, run\.loadavgStart/)
    assert.deepEqual(readdirSync(dir), [])

    const good = spawnSync(process.execPath, [runInfo, 'write', file], { input: JSON.stringify({ harness: 'x', run, results: { a: 1 } }), encoding: 'utf8' })
    assert.equal(good.status, 0, good.stderr)
    const written = JSON.parse(readFileSync(file, 'utf8'))
    assert.deepEqual(written.results, { a: 1 })
    assert.equal(written.run.loadavgEnd.length, 3)
    assert.deepEqual(readdirSync(dir), ['x.json'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
