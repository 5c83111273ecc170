// Response caching: a GET answered 200 is kept in TinyKV by URL for `ttl` ms and replayed from
// there until it expires, with the headers a browser or CDN needs to cache it too:
//   X-Cache: MISS | HIT             where this answer came from
//   Cache-Control: public, max-age  the TTL in whole seconds (rounded down, never promising more)
//   Age                             seconds since the cached copy was made
// Only bodies that go through res.send (res.json and res.send alike; not streams or res.end) are
// cached. Mount it on public routes only, never on per-user ones.
import type { RequestHandler } from 'express'
import type { AsyncTinyKV } from 'tinykv'

/** What one cached response keeps. */
interface CachedResponse {
  status: number
  contentType: string | undefined
  /** The body's bytes, base64. */
  body: string
  /** When it was made, epoch ms (for Age). */
  storedAt: number
}

export interface ResponseCacheOptions {
  /** Where responses are kept: give it a namespace of its own (`kv.namespace('http-cache')`). */
  kv: AsyncTinyKV
  /** How long a response is served from the cache, in ms. */
  ttl: number
}

export function responseCache({ kv, ttl }: ResponseCacheOptions): RequestHandler {
  if (!(ttl > 0)) throw new RangeError(`responseCache: ttl must be a positive number of ms, got ${ttl}`)
  const cacheControl = `public, max-age=${Math.floor(ttl / 1000)}`
  return async (req, res, next) => {
    if (req.method !== 'GET') return next()
    const key = req.originalUrl
    let hit: CachedResponse | undefined
    try {
      hit = await kv.getJSON<CachedResponse>(key)
    } catch (err) {
      return next(err)
    }
    res.set('Cache-Control', cacheControl)
    if (hit) {
      res.set('X-Cache', 'HIT')
      res.set('Age', String(Math.max(0, Math.floor((Date.now() - hit.storedAt) / 1000))))
      if (hit.contentType) res.set('Content-Type', hit.contentType)
      res.status(hit.status).send(Buffer.from(hit.body, 'base64'))
      return
    }
    res.set('X-Cache', 'MISS')
    res.set('Age', '0')
    const send = res.send.bind(res)
    res.send = (body?: unknown) => {
      // res.json and res.send(object) come back here with a string: cache that call.
      const status = res.statusCode
      const result = send(body)
      if (status === 200 && (typeof body === 'string' || Buffer.isBuffer(body))) {
        const cached: CachedResponse = {
          status,
          contentType: res.get('Content-Type'),
          body: Buffer.from(body).toString('base64'),
          storedAt: Date.now(),
        }
        // The client has its answer already; a failed write only costs a later MISS.
        kv.setJSON(key, cached, { ttl }).catch((err: unknown) => console.error(`response cache: could not store ${key}:`, err))
      }
      return result
    }
    next()
  }
}
