// Persistence (scripts/bench-persist.sh): snapshot save and load rates, the export | import
// round trip, and GET/SET p99 while idle and during back-to-back BGSAVEs.
import { config, groupedBars, title } from '../common.mjs'

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`

function rateSpec(doc) {
  const { redis, tinykv, exportImport } = doc.results
  const r = `redis-server ${doc.params.redisServer}`
  const rate = (side, s) => side.keysLoaded / side[s]
  const data = [
    { op: `SAVE (RDB ${mb(redis.fileBytes)}, snapshot ${mb(tinykv.fileBytes)})`, who: 'tinykv', v: rate(tinykv, 'saveS') },
    { op: `SAVE (RDB ${mb(redis.fileBytes)}, snapshot ${mb(tinykv.fileBytes)})`, who: r, v: rate(redis, 'saveS') },
    { op: 'load at startup', who: 'tinykv', v: rate(tinykv, 'loadS') },
    { op: 'load at startup', who: r, v: rate(redis, 'loadS') },
    { op: `tinykv export | tinykv import (JSONL, ${mb(doc.results.jsonlBytes)})`, who: 'tinykv', v: exportImport.keysPerS },
  ]
  return {
    title: title(CHARTS[0].title, doc.run, `${doc.params.keys.toLocaleString('en-US')} keys, 100-byte values, a tenth with a TTL`),
    data: { values: data },
    ...groupedBars({ cat: 'op', group: 'who', value: 'v', domain: ['tinykv', r], axisTitle: 'keys per second (higher is better)', format: '.3~s', axisFormat: '~s', step: 16 }),
    config,
  }
}

function latencySpec(doc) {
  const { redis, tinykv } = doc.results
  const r = `redis-server ${doc.params.redisServer}`
  const rows = [
    ['getIdle', 'GET, idle'],
    ['getDuringBgsave', 'GET, during BGSAVE'],
    ['setIdle', 'SET, idle'],
    ['setDuringBgsave', 'SET, during BGSAVE'],
  ]
  const data = rows.flatMap(([k, op]) => [
    { op, who: 'tinykv', ms: tinykv.p99ms[k] },
    { op, who: r, ms: redis.p99ms[k] },
  ])
  return {
    title: title(CHARTS[1].title, doc.run, `redis-benchmark -c ${doc.params.clients} -n ${doc.params.benchmarkRequests.toLocaleString('en-US')} -d 100; one run, so compare within it`),
    data: { values: data },
    ...groupedBars({ cat: 'op', group: 'who', value: 'ms', domain: ['tinykv', r], axisTitle: 'p99 latency, ms (lower is better)', format: '.1f', step: 16 }),
    config,
  }
}

export const CHARTS = [
  { file: 'persist-snapshot.svg', harness: 'persist', title: 'Persistence: snapshot save and load rates, TinyKV vs redis-server', spec: rateSpec },
  { file: 'persist-latency.svg', harness: 'persist', title: 'Persistence: p99 latency while idle and during BGSAVE', spec: latencySpec },
]
