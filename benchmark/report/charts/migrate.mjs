// Migration (scripts/bench-migrate.sh): `tinykv migrate` against each target's own bulk-loading
// path, in keys/s.
import { config, groupedBars, title } from '../common.mjs'

const DOMAIN = ['tinykv migrate', "the target's own bulk load"]

function spec(doc) {
  const data = doc.results.rows.flatMap((r) => {
    const target = `into ${r.target}, vs ${r.baseline}  (${(r.migrateKeysPerS / r.baselineKeysPerS).toFixed(2)}x)`
    return [
      { target, who: DOMAIN[0], v: r.migrateKeysPerS },
      { target, who: DOMAIN[1], v: r.baselineKeysPerS },
    ]
  })
  const p = doc.params
  return {
    title: title(CHARTS[0].title, doc.run, `${p.keys.toLocaleString('en-US')} keys, 100-byte values, best of ${p.rounds}; redis-server ${p.redisServer}, PostgreSQL ${p.postgres}`),
    data: { values: data },
    ...groupedBars({ cat: 'target', group: 'who', value: 'v', domain: DOMAIN, axisTitle: 'keys per second (higher is better)', format: '.3~s', axisFormat: '~s', step: 16 }),
    config,
  }
}

export const CHARTS = [{ file: 'migrate.svg', harness: 'migrate', title: 'Migration: tinykv migrate vs redis-cli --pipe and psql copy', spec }]
