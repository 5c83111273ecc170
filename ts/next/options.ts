/**
 * The options both Next.js handlers take, and where each one's default comes from. One variable
 * moves an app from in-process memory to a shared daemon: `TINYKV_URL`, read when the handler is
 * created (at `next start`, not at `next build`), so one build runs either way.
 */

/** Options of `createCacheHandler` and `createUseCacheHandler` (every field optional). */
export interface NextCacheOptions {
  /**
   * Where the cache lives, as `open()` takes it: `unix:///run/tinykv.sock` or
   * `redis://127.0.0.1:6380` for a TinyKV daemon every `next start` process shares (a Redis URL
   * works too). Default: `process.env.TINYKV_URL`; unset or `''` keeps the cache in this
   * process's memory.
   */
  url?: string
  /** The namespace holding Next's entries and tags (`SELECT next` on the daemon, a `next:` prefix on Redis). Default `'next'`. */
  namespace?: string
  /** In-process only: the most memory the entries may use (bytes, or `'64mb'`); least recently used go first. Default `'50mb'`, Next's own default. */
  maxMemory?: number | string
}

/** Options with every default applied. */
export interface ResolvedOptions {
  url: string
  namespace: string
  maxMemory: number | string
}

const DEFAULT_NAMESPACE = 'next'
const DEFAULT_MAX_MEMORY = '50mb'

/** `options` checked and completed from the environment; a wrong type throws a `TypeError` naming the option. */
export function resolveOptions(options: NextCacheOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`tinykv/next: options must be an object, got ${options === null ? 'null' : typeof options}`)
  const { url = env.TINYKV_URL ?? '', namespace = DEFAULT_NAMESPACE, maxMemory = DEFAULT_MAX_MEMORY } = options
  if (typeof url !== 'string') throw new TypeError(`tinykv/next: options.url must be a string (a unix:// or redis:// URL), got ${typeof url}`)
  if (typeof namespace !== 'string' || namespace === '') throw new TypeError('tinykv/next: options.namespace must be a non-empty string')
  if (typeof maxMemory !== 'number' && typeof maxMemory !== 'string') {
    throw new TypeError(`tinykv/next: options.maxMemory must be a number of bytes or a size such as '64mb', got ${typeof maxMemory}`)
  }
  return { url: url.trim(), namespace, maxMemory }
}
