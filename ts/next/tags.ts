/**
 * The tag manifest, kept in the shared store so that a `revalidateTag` in one `next start`
 * process is seen by every other: per tag, when it was last expired and when it was last marked
 * stale (epoch ms), each under its own key so two processes revalidating at once never
 * read-modify-write the same record. An entry records its tags and when it was made; a read
 * compares the two, so a revalidation costs one write per tag however many entries carry it.
 * The rules are those of Next's own in-memory manifest: a tag expired after an entry was made
 * (and not in the future) expires the entry; a tag marked stale after it makes it stale. "After"
 * includes the same millisecond, as in Next's `'use cache'` check (`timestamp <= expiration`):
 * an entry that may predate the revalidation is rendered again, never served.
 */
import type { AsyncTinyKV } from '../types.js'

/** What `revalidateTag(tag, profile)` passes down: the profile's `expire`, in seconds. */
export interface TagDurations {
  expire?: number
}

/** One tag's record: epoch ms of its last expiry and of its last stale mark (absent: never). */
export interface TagState {
  expired?: number
  stale?: number
}

const expiredKey = (tag: string) => `tag-expired:${tag}`
const staleKey = (tag: string) => `tag-stale:${tag}`

/**
 * Records a revalidation of `tags` at `now`. Without `durations` (Next's `updateTag`, or
 * `revalidateTag` with an `expire: 0` profile) they expire at once; with them they are stale
 * now and expire `durations.expire` seconds later (stale-while-revalidate).
 */
export async function updateTags(store: AsyncTinyKV, tags: readonly string[], durations?: TagDurations, now = Date.now()): Promise<void> {
  if (tags.length === 0) return
  const writes: Array<[string, string]> = []
  for (const tag of tags) {
    if (durations) {
      writes.push([staleKey(tag), String(now)])
      if (durations.expire !== undefined) writes.push([expiredKey(tag), String(now + durations.expire * 1000)])
    } else {
      writes.push([expiredKey(tag), String(now)])
    }
  }
  await store.mset(writes)
}

/** The records of `tags` (one round trip), keyed by tag; a tag never revalidated is absent. */
export async function readTags(store: AsyncTinyKV, tags: readonly string[]): Promise<Map<string, TagState>> {
  const states = new Map<string, TagState>()
  const unique = [...new Set(tags)]
  if (unique.length === 0) return states
  const values = await store.mget(unique.flatMap((tag) => [expiredKey(tag), staleKey(tag)]))
  unique.forEach((tag, i) => {
    const expired = values[2 * i]
    const stale = values[2 * i + 1]
    if (expired === undefined && stale === undefined) return
    const state: TagState = {}
    if (expired !== undefined) state.expired = Number(expired)
    if (stale !== undefined) state.stale = Number(stale)
    states.set(tag, state)
  })
  return states
}

/** Whether any of `tags` expired at or after `timestamp` (and not later than `now`). */
export function anyExpired(states: Map<string, TagState>, tags: readonly string[], timestamp: number, now = Date.now()): boolean {
  return tags.some((tag) => {
    const expired = states.get(tag)?.expired
    return expired !== undefined && expired <= now && expired >= timestamp
  })
}

/** Whether any of `tags` was marked stale at or after `timestamp`. */
export function anyStale(states: Map<string, TagState>, tags: readonly string[], timestamp: number): boolean {
  return tags.some((tag) => {
    const stale = states.get(tag)?.stale
    return stale !== undefined && stale >= timestamp
  })
}

/** The latest expiry among `tags` that has already happened (epoch ms), or 0: what `getExpiration` answers. */
export function latestExpiry(states: Map<string, TagState>, now = Date.now()): number {
  let latest = 0
  for (const { expired } of states.values()) if (expired !== undefined && expired <= now && expired > latest) latest = expired
  return latest
}
