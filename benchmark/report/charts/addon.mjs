// In-process: the addon against lru-cache and Map (benchmark/bench.mjs, `npm run bench`).
import { config, groupedBars, title } from '../common.mjs'

const CONTENDERS = ['tinykv', 'lru-cache', 'Map']
const ratio = (c, key) => `${(c.tinykv[key] / c['lru-cache'][key]).toFixed(2)}x lru-cache`

function opsSpec(doc) {
  const { contenders: c } = doc.results
  const batch = doc.params.batch
  // mget is per batch in the harness; per key here, so it shares the axis with single gets.
  const ops = [
    ['set', 'set, fresh cache'],
    ['setCold', "set, the process's first fill"],
    ['get', 'get hit, prebuilt key strings'],
    ['fresh', "get hit, fresh 'key:'+i string"],
    ['miss', 'get miss'],
    ['mget', `mget of ${batch}, per key (others: ${batch} gets)`],
  ]
  const data = ops.flatMap(([key, label]) =>
    CONTENDERS.map((who) => ({ op: `${label}  (${ratio(c, key)})`, who, ns: key === 'mget' ? c[who][key] / batch : c[who][key] })),
  )
  return {
    title: title(CHARTS[0].title, doc.run, `${doc.params.n.toLocaleString('en-US')} keys, 100-byte values, best of ${doc.params.rounds} processes, ${doc.params.clock} time`),
    data: { values: data },
    ...groupedBars({ cat: 'op', group: 'who', value: 'ns', domain: CONTENDERS, axisTitle: 'ns per operation (lower is better)', sort: null }),
    config,
  }
}

function memorySpec(doc) {
  const { contenders: c } = doc.results
  const rss = CONTENDERS.map((who) => ({ what: 'RSS growth (MB)', who, v: c[who].rss }))
  const gc = CONTENDERS.map((who) => ({ what: 'longest GC pause (ms)', who, v: c[who].gc }))
  const panel = (values, axisTitle, format) => ({
    data: { values },
    ...groupedBars({ cat: 'who', group: 'who', value: 'v', domain: CONTENDERS, axisTitle, format, width: 260, step: 22, sort: CONTENDERS }),
  })
  return {
    title: title(CHARTS[1].title, doc.run, `${doc.params.n.toLocaleString('en-US')} keys of 100 bytes loaded; median of ${doc.params.rounds} processes`),
    hconcat: [panel(rss, 'RSS growth, MB (lower is better)', ',.0f'), panel(gc, 'longest GC pause, ms (lower is better)', ',.1f')],
    config,
  }
}

export const CHARTS = [
  { file: 'addon-ops.svg', harness: 'addon', title: 'In-process: ns per operation, TinyKV vs lru-cache vs Map', spec: opsSpec },
  { file: 'addon-memory.svg', harness: 'addon', title: 'In-process: memory and GC pauses while loading entries', spec: memorySpec },
]
