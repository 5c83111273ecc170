// Regenerates every chart of docs/benchmarks.md from the committed benchmark JSON, headlessly:
// each chart is a vega-lite spec, compiled to vega and rendered to SVG with View.toSVG() (no
// browser, no canvas). Usage:
//   node benchmark/report/render.mjs [--data docs/benchmarks/data] [--out docs/benchmarks]
// Every data file is read and checked before any chart is written, and each SVG is written whole
// (temp file, then rename), so a bad input leaves the previous charts as they were.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as vega from 'vega'
import { compile } from 'vega-lite'
import { checkReport } from './run-info.mjs'
import { CHARTS as addon } from './charts/addon.mjs'
import { CHARTS as daemon } from './charts/daemon.mjs'
import { CHARTS as hitRatio } from './charts/hit-ratio.mjs'
import { CHARTS as persist } from './charts/persist.mjs'
import { CHARTS as migrate } from './charts/migrate.mjs'
import { CHARTS as client } from './charts/client.mjs'
import { CHARTS as workers } from './charts/workers.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CHARTS = [...addon, ...daemon, ...hitRatio, ...persist, ...migrate, ...client, ...workers]

/** How to make each harness's data file, for the error when it is missing. */
export const COMMANDS = {
  addon: 'BENCH_JSON=docs/benchmarks/data/addon.json npm run bench',
  daemon: 'BENCH_JSON=docs/benchmarks/data/daemon.json scripts/bench-daemon.sh',
  hit_ratio: 'BENCH_JSON=docs/benchmarks/data/hit_ratio.json cargo bench --bench hit_ratio',
  persist: 'BENCH_JSON=docs/benchmarks/data/persist.json scripts/bench-persist.sh',
  migrate: 'BENCH_JSON=docs/benchmarks/data/migrate.json scripts/bench-migrate.sh',
  client: 'BENCH_JSON=docs/benchmarks/data/client.json npm run bench:client',
  workers: 'BENCH_JSON=docs/benchmarks/data/workers.json npm run bench:workers',
}

/** Reads and checks `<dataDir>/<harness>.json` for every harness a chart needs. */
export function loadData(dataDir) {
  const docs = {}
  for (const harness of new Set(CHARTS.map((c) => c.harness))) {
    const file = join(dataDir, `${harness}.json`)
    if (!existsSync(file)) throw new Error(`${file}: not found (make it with: ${COMMANDS[harness]})`)
    let doc
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'))
    } catch (e) {
      throw new Error(`${file}: not JSON (${e.message})`)
    }
    checkReport(doc, file)
    if (doc.harness !== harness) throw new Error(`${file}: holds harness "${doc.harness}", expected "${harness}"`)
    docs[harness] = doc
  }
  return docs
}

/** One chart's SVG. */
export async function toSVG(chart, doc) {
  const view = new vega.View(vega.parse(compile(chart.spec(doc)).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** Renders every chart into outDir; returns [{ file, title, path }]. */
export async function render({ dataDir, outDir }) {
  const docs = loadData(dataDir)
  const svgs = []
  for (const chart of CHARTS) {
    try {
      svgs.push({ chart, svg: await toSVG(chart, docs[chart.harness]) })
    } catch (e) {
      throw new Error(`${chart.file} (from ${chart.harness}.json): ${e.message}`)
    }
  }
  mkdirSync(outDir, { recursive: true })
  return svgs.map(({ chart, svg }) => {
    const path = join(outDir, chart.file)
    const tmp = `${path}.tmp-${process.pid}`
    writeFileSync(tmp, svg)
    renameSync(tmp, path)
    return { file: chart.file, title: chart.title, path }
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { data: { type: 'string', default: join(root, 'docs/benchmarks/data') }, out: { type: 'string', default: join(root, 'docs/benchmarks') } },
  })
  try {
    const written = await render({ dataDir: values.data, outDir: values.out })
    for (const w of written) console.log(`${w.path}  ${w.title}`)
  } catch (e) {
    console.error(`bench-report: ${e.message}`)
    process.exit(1)
  }
}
