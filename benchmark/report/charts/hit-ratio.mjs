// Eviction quality (cargo bench --bench hit_ratio): hit ratio of TinyKV's policies against an
// exact LRU at the same entry cap, on the same seeded traces.
import { config, groupedBars, title } from '../common.mjs'

const DOMAIN = ['exact LRU', 'tinykv lru', 'tinykv lfu']
const ROW = {
  '(a) zipf': 'Zipf 0.99',
  '(b) zipf+scans all reqs': 'Zipf + one-off scans, all requests',
  '(b) zipf+scans ws reqs': 'Zipf + one-off scans, working-set requests',
}

function spec(doc) {
  const data = doc.results.rows.flatMap((r) => {
    const row = ROW[r.row] ?? r.row
    return [
      { row, who: 'exact LRU', hit: r.exactLru },
      ...Object.entries(r.tinykv)
        .filter(([, v]) => v != null)
        .map(([policy, hit]) => ({ row, who: `tinykv ${policy}`, hit })),
    ]
  })
  const p = doc.params
  return {
    title: title(CHARTS[0].title, doc.run, `cap ${p.cap.toLocaleString('en-US')} entries, ${p.keys.toLocaleString('en-US')} keys, cache-aside, seed ${p.seed}`),
    data: { values: data },
    ...groupedBars({ cat: 'row', group: 'who', value: 'hit', domain: DOMAIN, axisTitle: 'hit % after warm-up (higher is better)', format: '.2f', step: 14 }),
    config,
  }
}

export const CHARTS = [{ file: 'hit-ratio.svg', harness: 'hit_ratio', title: 'Eviction: hit ratio of TinyKV lru and lfu vs an exact LRU', spec }]
