// GET /metrics in Prometheus's text format. In-process, it is the store's own `kv.metrics()`
// (the TinyKV class's exposition). A remote store has no such call: the SDK offers `stats()`,
// which on the daemon is its STATS reply, so the same series are written from that. The
// daemon does not report its hash tables' size, so `tinykv_table_memory_bytes` is left out
// rather than reported as 0. Every process sharing one daemon reports the same numbers: scrape
// one of them, or the daemon's own `tinykv serve --metrics-addr`, which adds latencies and
// connections.
import type { RequestHandler } from 'express'
import { LocalTinyKV } from 'tinykv'
import type { AsyncTinyKV, TinyKVStats } from 'tinykv'

type Series = [name: string, type: 'counter' | 'gauge', help: string, value: number]

/** `stats` as Prometheus text, with the names and help of `kv.metrics()`. */
export function statsToPrometheus(stats: TinyKVStats): string {
  const series: Series[] = [
    ['tinykv_keyspace_hits_total', 'counter', 'Reads that found a live entry.', stats.hits],
    ['tinykv_keyspace_misses_total', 'counter', 'Reads that found no live entry.', stats.misses],
    ['tinykv_sets_total', 'counter', 'Successful writes (set, incr, append).', stats.sets],
    ['tinykv_deletes_total', 'counter', 'Entries removed by delete.', stats.deletes],
    ['tinykv_expired_keys_total', 'counter', 'Entries removed because their TTL passed.', stats.expired],
    ['tinykv_evicted_keys_total', 'counter', 'Entries removed to make room under a cap.', stats.evicted],
    ['tinykv_keys', 'gauge', 'Entries in the store.', stats.keys],
    ['tinykv_used_memory_bytes', 'gauge', 'Bytes charged: entry allocations plus tables.', stats.usedMemory],
    ['tinykv_max_memory_bytes', 'gauge', 'The byte cap; 0 means unbounded.', stats.maxMemory ?? 0],
    ['tinykv_max_entries', 'gauge', 'The entry cap; 0 means unbounded.', stats.maxEntries ?? 0],
  ]
  const lines: string[] = []
  for (const [name, type, help, value] of series) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`)
  }
  const perNamespace = [
    ['tinykv_namespace_keys', 'Entries per namespace.', 'keys'],
    ['tinykv_namespace_bytes', 'Key and value bytes per namespace.', 'bytes'],
  ] as const
  for (const [name, help, field] of perNamespace) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
    for (const ns of stats.namespaces) lines.push(`${name}{namespace="${escapeLabel(ns.name)}"} ${ns[field]}`)
  }
  return lines.join('\n') + '\n'
}

/** A label value as the text format writes it: backslash, quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function metricsHandler(kv: AsyncTinyKV): RequestHandler {
  return async (_req, res, next) => {
    try {
      const text = kv instanceof LocalTinyKV ? kv.sync.metrics() : statsToPrometheus(await kv.stats())
      res.type('text/plain; version=0.0.4; charset=utf-8').send(text)
    } catch (err) {
      next(err)
    }
  }
}
