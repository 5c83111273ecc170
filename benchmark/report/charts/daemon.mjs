// The daemon against redis-server (scripts/bench-daemon.sh): redis-benchmark requests/s for each
// command, transport and pipeline depth, and the SCAN walks.
import { config, groupedBars, panelTitle, title } from '../common.mjs'

const TRANSPORT = { tcp: 'TCP', unix: 'Unix socket' }

function rpsSpec(doc) {
  const redis = `redis-server ${doc.params.redisServer}`
  const domain = ['tinykv', redis]
  const data = doc.results.rows.flatMap((r) => {
    const depth = r.pipeline === 1 ? 'pipeline 1 (one request per round trip)' : `pipeline ${r.pipeline}`
    const cell = `${TRANSPORT[r.transport]} ${r.test.toUpperCase()}  (${(r.tinykv.best / r.redis.best).toFixed(2)}x)`
    return [
      { depth, cell, who: 'tinykv', rps: r.tinykv.best },
      { depth, cell, who: redis, rps: r.redis.best },
    ]
  })
  const p = doc.params
  // One panel per pipeline depth: pipelined rates are ten times the others, and one axis for
  // both would flatten the unpipelined bars.
  const depths = [...new Set(data.map((d) => d.depth))]
  return {
    title: title(CHARTS[0].title, doc.run, `redis-benchmark -c ${p.clients}, best of ${p.rounds} alternating rounds, ${p.pinning}`),
    vconcat: depths.map((depth) => ({
      title: panelTitle(depth),
      data: { values: data.filter((d) => d.depth === depth) },
      ...groupedBars({ cat: 'cell', group: 'who', value: 'rps', domain, axisTitle: 'requests/s (higher is better); tinykv/redis in brackets', format: '.3~s', axisFormat: '~s', step: 12 }),
    })),
    config,
  }
}

function scanSpec(doc) {
  const redis = `redis-server ${doc.params.redisServer}`
  const domain = ['tinykv', redis]
  const data = doc.results.scan.flatMap((s) => {
    const cell = `SCAN ... COUNT ${s.count}  (${(s.tinykv.best / s.redis.best).toFixed(2)}x)`
    return [
      { cell, who: 'tinykv', s: s.tinykv.best },
      { cell, who: redis, s: s.redis.best },
    ]
  })
  return {
    title: title(CHARTS[1].title, doc.run, `${doc.params.scanKeys.toLocaleString('en-US')} keys, one call at a time over TCP, best of ${doc.params.rounds}`),
    data: { values: data },
    ...groupedBars({ cat: 'cell', group: 'who', value: 's', domain, axisTitle: 'seconds for a full walk (lower is better); tinykv/redis in brackets', format: '.2f', step: 16 }),
    config,
  }
}

export const CHARTS = [
  { file: 'daemon-rps.svg', harness: 'daemon', title: 'Daemon: requests/s, tinykv serve vs redis-server', spec: rpsSpec },
  { file: 'daemon-scan.svg', harness: 'daemon', title: 'Daemon: a full SCAN walk, tinykv serve vs redis-server', spec: scanSpec },
]
