/**
 * The store keys of Next's entries. Next's own keys can be long (a `'use cache'` key holds the
 * function's serialized arguments), so one past `MAX_PLAIN_KEY` characters is replaced by its
 * SHA-256, which keeps every key well inside the store's key limit and still one-to-one in
 * practice.
 */
import { createHash } from 'node:crypto'

const MAX_PLAIN_KEY = 512

/** `kind:key`, or `kind:#<sha256 of key>` for a long key. */
export function storeKey(kind: string, key: string): string {
  if (key.length <= MAX_PLAIN_KEY) return `${kind}:${key}`
  return `${kind}:#${createHash('sha256').update(key).digest('hex')}`
}

/** The longest TTL given to an entry (a year, in ms): Next's "never expires" is about 136 years, past what a TTL should hold. */
export const MAX_ENTRY_TTL = 365 * 24 * 60 * 60 * 1000

/** A TTL in ms for an entry that Next may use for `expireSeconds`, or `undefined` (keep until the memory cap evicts it). */
export function entryTtl(expireSeconds: unknown): number | undefined {
  if (typeof expireSeconds !== 'number' || !(expireSeconds > 0)) return undefined
  return Math.min(Math.ceil(expireSeconds * 1000), MAX_ENTRY_TTL)
}
