/**
 * Where a client connects: `open()`'s and `TinyKVClient`'s URL or options resolved to one
 * `Target` (a Unix socket, a TCP address with or without TLS, or a cluster's seed nodes). An
 * unknown scheme or a malformed URL is a `TypeError` here, before any connection is tried, and
 * no message ever repeats a password.
 */
import type { ConnectionOptions } from 'node:tls'

/** One node of a Redis Cluster, as a seed. */
export interface ClusterNode {
  /** Host name or address. */
  host: string
  /** TCP port. */
  port: number
}

/** A resolved connection target. */
export type Target =
  | { kind: 'unix'; path: string; label: string }
  | { kind: 'tcp'; host: string; port: number; tls: ConnectionOptions | undefined; label: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; tls: ConnectionOptions | undefined; label: string }

/** What a URL carries besides the address. */
export interface UrlExtras {
  /** The user of `redis://user:pass@host` (ACL), if any. */
  username?: string
  /** The password of the URL, if any. */
  password?: string
  /** The database of `redis://host/3` (a number on Redis; a number or a namespace on the daemon). */
  db?: string
}

const SCHEMES = 'unix:///path/to/tinykv.sock, redis://host:port, rediss://host:port (TLS), or { cluster: [...] }'

/** The URL with its password masked, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

/** `url` resolved to a target and what else it carries; a `TypeError` for anything unusable. */
export function parseUrl(url: string, tls?: boolean | ConnectionOptions): { target: Target; extras: UrlExtras } {
  if (typeof url !== 'string') throw new TypeError(`open: url must be a string, got ${typeof url}`)
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new TypeError(`open: '${redact(url)}' is not a URL; use ${SCHEMES}`)
  }
  const extras: UrlExtras = {}
  if (u.username) extras.username = decodeURIComponent(u.username)
  if (u.password) extras.password = decodeURIComponent(u.password)
  switch (u.protocol) {
    case 'unix:': {
      const path = decodeURIComponent(u.pathname)
      if (!path || path === '/') throw new TypeError(`open: '${redact(url)}' names no socket path; use unix:///path/to/tinykv.sock`)
      const db = u.searchParams.get('db')
      if (db) extras.db = db
      return { target: { kind: 'unix', path, label: `unix:${path}` }, extras }
    }
    case 'redis:':
    case 'rediss:': {
      if (!u.hostname) throw new TypeError(`open: '${redact(url)}' names no host; use redis://host:port`)
      const port = u.port ? Number(u.port) : 6379
      const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
      const useTls = u.protocol === 'rediss:' ? (typeof tls === 'object' ? tls : {}) : tlsOption(tls)
      const db = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined
      if (db) extras.db = db
      return { target: { kind: 'tcp', host, port, tls: useTls, label: `${useTls ? 'rediss' : 'redis'}://${host}:${port}` }, extras }
    }
    default:
      throw new TypeError(`open: unsupported URL scheme '${u.protocol}' in '${redact(url)}'; use ${SCHEMES}, or no url for the in-process store`)
  }
}

/** The TLS options of a `tls` option: none, defaults (`true`) or the given ones. */
export function tlsOption(tls: boolean | ConnectionOptions | undefined): ConnectionOptions | undefined {
  if (tls === undefined || tls === false) return undefined
  if (tls === true) return {}
  if (typeof tls === 'object') return tls
  throw new TypeError(`open: tls must be a boolean or TLS options, got ${typeof tls}`)
}

/** A cluster's seed list (`'redis://host:port'`, `'host:port'` or `{ host, port }`) as nodes. */
export function parseCluster(seeds: unknown, tls?: boolean | ConnectionOptions): Target {
  if (!Array.isArray(seeds) || seeds.length === 0) throw new TypeError('open: cluster must be a non-empty array of nodes (redis://host:port or { host, port })')
  let useTls = tlsOption(tls)
  const nodes = seeds.map((seed: unknown, i): ClusterNode => {
    if (typeof seed === 'string') {
      const withScheme = /^[a-z]+:\/\//i.test(seed) ? seed : `redis://${seed}`
      const { target } = parseUrl(withScheme, tls)
      if (target.kind !== 'tcp') throw new TypeError(`open: cluster[${i}] must be a TCP node, got '${redact(seed)}'`)
      if (target.tls) useTls = target.tls
      return { host: target.host, port: target.port }
    }
    const n = seed as Partial<ClusterNode> | null
    if (!n || typeof n.host !== 'string' || !Number.isInteger(n.port)) throw new TypeError(`open: cluster[${i}] must be 'host:port' or { host, port }`)
    return { host: n.host, port: n.port as number }
  })
  return { kind: 'cluster', nodes, tls: useTls, label: `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}` }
}
