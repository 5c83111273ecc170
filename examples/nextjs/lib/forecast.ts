import { cacheLife, cacheTag } from 'next/cache'

export interface Forecast {
  /** A value that changes on every real run of the function, so a cached one is easy to spot. */
  id: string
  /** When the function really ran (ISO time). */
  madeAt: string
}

/**
 * A 'use cache' function: its result lives in the `cacheHandlers` store (TinyKV) under the
 * 'forecast' tag until `revalidateTag('forecast', ...)`, or for an hour.
 */
export async function getForecast(): Promise<Forecast> {
  'use cache'
  cacheTag('forecast')
  cacheLife({ stale: 60, revalidate: 3600, expire: 86400 })
  return { id: crypto.randomUUID(), madeAt: new Date().toISOString() }
}
