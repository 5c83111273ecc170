// The SDK's client (benchmark/client.mjs): TinyKVClient against ioredis and node-redis on one
// tinykv serve, requests/s per transport, op and concurrency.
import { config, groupedBars, panelTitle, title } from '../common.mjs'

function spec(doc) {
  const ours = `TinyKVClient (pool ${doc.params.defaultPool})`
  const domain = [ours, 'ioredis (defaults)', 'node-redis (defaults)']
  const data = doc.results.rows
    .filter((r) => domain.includes(r.name))
    .map((r) => ({ mode: r.mode, cell: `${r.transport} ${r.op}`, who: r.name, rps: r.best }))
  const p = doc.params
  // One panel per concurrency: 100 in flight runs several times the rate of one awaited.
  const modes = [...new Set(data.map((d) => d.mode))]
  return {
    title: title(CHARTS[0].title, doc.run, `100-byte values over ${p.keys.toLocaleString('en-US')} keys, best of ${p.rounds}${p.pinned ? ', daemon on CPU 0, client on CPU 1' : ''}`),
    vconcat: modes.map((mode) => ({
      title: panelTitle(mode === '1 awaited' ? 'one command awaited at a time' : `${mode}`),
      data: { values: data.filter((d) => d.mode === mode) },
      ...groupedBars({ cat: 'cell', group: 'who', value: 'rps', domain, axisTitle: 'requests/s (higher is better)', format: '.3~s', axisFormat: '~s', step: 12 }),
    })),
    config,
  }
}

export const CHARTS = [{ file: 'client.svg', harness: 'client', title: 'SDK client: TinyKVClient vs ioredis and node-redis on one tinykv serve', spec }]
