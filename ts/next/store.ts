/**
 * The store behind both Next.js handlers, opened once per process and shared: Next constructs
 * its `cacheHandler` class for every request, and the `'use cache'` handler and the
 * `cacheHandler` must see the same tags. In-process, the stores are named (`new TinyKV({ name })`),
 * so every thread of the process that loads a handler attaches to the same memory. Tags live
 * apart from the entries there, in a store with no cap, so evicting entries to make room can
 * never evict the record that a tag was revalidated (which would bring stale entries back).
 */
import { open } from '../open.js'
import { LocalTinyKV } from '../local.js'
import type { AsyncTinyKV } from '../types.js'
import type { ResolvedOptions } from './options.js'

/** Where the entries and the tag records of one configuration live (the same handle on a server). */
export interface NextStores {
  entries: AsyncTinyKV
  tags: AsyncTinyKV
}

const opened = new Map<string, Promise<NextStores>>()

/** The stores for `options`, opened on first use; a failed open is forgotten, so the next call tries again. */
export function nextStores(options: ResolvedOptions): Promise<NextStores> {
  const id = JSON.stringify([options.url, options.namespace, options.url === '' ? options.maxMemory : null])
  let stores = opened.get(id)
  if (!stores) {
    stores = openStores(options)
    opened.set(id, stores)
    stores.catch(() => opened.delete(id))
  }
  return stores
}

async function openStores({ url, namespace, maxMemory }: ResolvedOptions): Promise<NextStores> {
  if (url === '') {
    const entries = new LocalTinyKV({ name: `tinykv-next:${namespace}`, maxMemory, namespace })
    const tags = new LocalTinyKV({ name: `tinykv-next-tags:${namespace}`, namespace })
    return { entries, tags }
  }
  const kv = (await open({ url })).namespace(namespace)
  return { entries: kv, tags: kv }
}

/** Closes every store opened here (for tests and scripts that must let the process exit; a server never needs it). */
export async function closeNextStores(): Promise<void> {
  const all = [...opened.values()]
  opened.clear()
  await Promise.all(all.map(async (stores) => {
    const s = await stores.catch(() => undefined)
    if (!s) return
    await s.entries.close()
    if (s.tags !== s.entries) await s.tags.close()
  }))
}
