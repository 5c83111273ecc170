/**
 * Argument checks for the remote backends, run before anything is sent, in the `TinyKV` class's
 * own wording (`TinyKV.set: key must be a string, got number`), so a caller sees the same
 * `TypeError` or `RangeError` from every backend. Values come out as what goes on the wire
 * (a string or a Buffer).
 */
import type { SetOptions } from '../lib/index.js'
import type { Value } from './types.js'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** A key, namespace name or pattern: a well-formed UTF-16 string. */
export function checkKey(method: string, key: unknown, what = 'key'): string {
  if (typeof key !== 'string') throw new TypeError(`TinyKV.${method}: ${what} must be a string, got ${typeName(key)}`)
  if (!key.isWellFormed()) {
    throw new TypeError(
      `TinyKV.${method}: ${what} is not well-formed UTF-16: it holds a lone surrogate (half of a surrogate pair), which has no UTF-8 form`,
    )
  }
  return key
}

/** A value as sent: strings and Buffers as they are, typed arrays as Buffers, numbers in decimal. */
export function checkValue(method: string, value: unknown, what = 'value'): string | Buffer {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value
  if (typeof value === 'number') return String(value)
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new TypeError(`TinyKV.${method}: ${what} must be a string, Buffer or number, got ${typeName(value)}`)
}

/** A TTL in ms: a positive finite number, rounded up to a whole ms. */
export function checkTtl(method: string, ttl: unknown, what = 'ttl'): number {
  if (typeof ttl !== 'number') throw new TypeError(`TinyKV.${method}: ${what} must be a number of milliseconds, got ${typeName(ttl)}`)
  if (!(ttl > 0) || !Number.isFinite(ttl)) {
    throw new RangeError(`TinyKV.${method}: ${what} must be a positive, finite number of milliseconds, got ${ttl}`)
  }
  return Math.ceil(ttl)
}

/** `set`'s options as SET's arguments after the value (`PX n`, `NX`, `XX`, `KEEPTTL`). */
export function setArgs(method: string, options: unknown, defaultTtl: number | undefined): string[] {
  if (options === undefined || options === null) return defaultTtl === undefined ? [] : ['PX', String(defaultTtl)]
  if (typeof options !== 'object') throw new TypeError(`TinyKV.${method}: options must be an object, got ${typeName(options)}`)
  const o = options as SetOptions
  for (const flag of ['nx', 'xx', 'keepTtl'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      throw new TypeError(`TinyKV.${method}: options.${flag} must be a boolean, got ${typeName(o[flag])}`)
    }
  }
  if (o.nx && o.xx) throw new RangeError(`TinyKV.${method}: options.nx and options.xx cannot both be true`)
  const args: string[] = []
  if (o.ttl !== undefined) {
    if (o.keepTtl) throw new RangeError(`TinyKV.${method}: options.ttl and options.keepTtl cannot both be set`)
    args.push('PX', String(checkTtl(method, o.ttl, 'options.ttl')))
  } else if (o.keepTtl) {
    args.push('KEEPTTL')
  } else if (defaultTtl !== undefined) {
    args.push('PX', String(defaultTtl))
  }
  if (o.nx) args.push('NX')
  if (o.xx) args.push('XX')
  return args
}

/** `incr`'s step: a safe integer or an int64 bigint, as INCRBY's argument. */
export function checkStep(method: string, by: unknown): { arg: string; big: boolean } {
  if (by === undefined) return { arg: '1', big: false }
  if (typeof by === 'bigint') {
    if (by < INT64_MIN || by > INT64_MAX) throw new RangeError(`TinyKV.${method}: by must fit in a signed 64-bit integer, got ${by}`)
    return { arg: String(by), big: true }
  }
  if (typeof by !== 'number') throw new TypeError(`TinyKV.${method}: by must be a number or a bigint, got ${typeName(by)}`)
  if (!Number.isSafeInteger(by)) throw new RangeError(`TinyKV.${method}: by must be a safe integer or a bigint, got ${by}`)
  return { arg: String(by), big: false }
}

/** `mset`'s entries as checked `[key, wire value]` pairs: all checked before any is sent. */
export function checkEntries(method: string, entries: unknown): Array<[string, string | Buffer]> {
  if (entries === null || typeof entries !== 'object') {
    throw new TypeError(`TinyKV.${method}: entries must be an array of [key, value] pairs or an object, got ${typeName(entries)}`)
  }
  if (Array.isArray(entries)) {
    return entries.map((pair: unknown, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`TinyKV.${method}: entries[${i}] must be a [key, value] pair`)
      return [checkKey(method, pair[0], `entries[${i}][0]`), checkValue(method, pair[1], `entries[${i}][1]`)]
    })
  }
  return Object.entries(entries as Record<string, Value>).map(([k, v]) => [checkKey(method, k), checkValue(method, v, `entries.${k}`)])
}

/** `mget`'s keys: an array of keys. */
export function checkKeys(method: string, keys: unknown): string[] {
  if (!Array.isArray(keys)) throw new TypeError(`TinyKV.${method}: keys must be an array of strings, got ${typeName(keys)}`)
  for (let i = 0; i < keys.length; i++) checkKey(method, keys[i], `keys[${i}]`)
  return keys as string[]
}

/** A namespace name: 1 to 256 bytes, no whitespace or control characters (as the store rules). */
export function checkNamespace(method: string, name: unknown): string {
  checkKey(method, name, 'name')
  const s = name as string
  if (s.length === 0) throw new RangeError(`TinyKV.${method}: name must not be empty`)
  if (Buffer.byteLength(s) > 256) throw new RangeError(`TinyKV.${method}: name must be at most 256 bytes`)
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/u.test(s)) throw new RangeError(`TinyKV.${method}: name must not hold whitespace or control characters`)
  return s
}

/** `getOrSet`'s loader and what it produced. */
export function checkLoader(method: string, loader: unknown): () => string | Promise<string> {
  if (typeof loader !== 'function') throw new TypeError(`TinyKV.${method}: loader must be a function, got ${typeName(loader)}`)
  return loader as () => string | Promise<string>
}
