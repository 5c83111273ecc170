/**
 * Namespaces on Redis: the one mapping from a TinyKV namespace to Redis keys, used by the SDK's
 * Redis backends and documented in docs/namespaces-on-redis.md for `tinykv migrate`.
 *
 * The TinyKV daemon has namespaces (`SELECT name`); Redis has none that survive a cluster, so a
 * namespace `name` becomes the key prefix `name + separator` (separator `':'` by default) and the
 * default namespace (`'default'`, or database `'0'`) has no prefix. A namespace's `keys`, `size`
 * and `clear` walk SCAN over `prefix*` (the prefix's glob characters escaped). The default
 * namespace's view is the whole database, namespaced keys included.
 */

/** The default namespace's names: `'default'` (the addon's) and `'0'` (database 0, the daemon's). */
export const DEFAULT_NAMESPACES: readonly string[] = ['default', '0']

/** The separator between a namespace and a key on Redis unless one is configured. */
export const DEFAULT_SEPARATOR = ':'

/** The Redis key prefix of namespace `name`: `''` for the default namespace, else `name + separator`. */
export function namespacePrefix(name: string, separator: string = DEFAULT_SEPARATOR): string {
  return DEFAULT_NAMESPACES.includes(name) ? '' : name + separator
}

/** The Redis key of `key` in namespace `name`. */
export function toRedisKey(name: string, key: string, separator: string = DEFAULT_SEPARATOR): string {
  return namespacePrefix(name, separator) + key
}

/**
 * The key in namespace `name` that Redis key `redisKey` holds, or `undefined` when `redisKey` is
 * not in that namespace (the default namespace holds every key).
 */
export function fromRedisKey(name: string, redisKey: string, separator: string = DEFAULT_SEPARATOR): string | undefined {
  const prefix = namespacePrefix(name, separator)
  return redisKey.startsWith(prefix) ? redisKey.slice(prefix.length) : undefined
}

/** `text` with Redis's glob characters (`* ? [ ] \`) escaped, to match it literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** The SCAN MATCH pattern for keys of namespace `name` matching `pattern` (a Redis glob). */
export function scanPattern(name: string, pattern: string, separator: string = DEFAULT_SEPARATOR): string {
  return escapeGlob(namespacePrefix(name, separator)) + pattern
}
