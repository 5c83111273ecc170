// One store shared by worker threads (benchmark/workers.mjs): throughput as threads are added,
// and the memory of 4 workers holding the same entries.
import { config, groupedBars, title } from '../common.mjs'

function spec(doc) {
  const { throughput, memoryMiB } = doc.results
  const ops = throughput.map((t) => ({ row: t.name, who: 'tinykv', v: t.ops }))
  const mem = [
    { row: 'one shared TinyKV store', who: 'tinykv', v: memoryMiB.sharedStore },
    { row: 'a private TinyKV per worker', who: 'tinykv', v: memoryMiB.privateStorePerWorker },
    { row: 'an lru-cache per worker', who: 'lru-cache', v: memoryMiB.lruCachePerWorker },
  ]
  const domain = ['tinykv', 'lru-cache']
  const panel = (values, axisTitle, format, axisFormat) => ({
    data: { values },
    ...groupedBars({ cat: 'row', group: 'who', value: 'v', domain, axisTitle, format, axisFormat, width: 300, step: 18 }),
  })
  const p = doc.params
  return {
    title: title(CHARTS[0].title, doc.run, `9 gets : 1 set over ${p.keys.toLocaleString('en-US')} keys; memory: 4 workers x ${p.n.toLocaleString('en-US')} entries`),
    hconcat: [panel(ops, 'operations/s, all threads together (higher is better)', '.3~s', '~s'), panel(mem, 'RSS growth, MiB (lower is better)', ',.0f')],
    resolve: { scale: { color: 'shared' } },
    config,
  }
}

export const CHARTS = [{ file: 'workers.svg', harness: 'workers', title: 'Worker threads: one shared store, throughput and memory', spec }]
