// The app: every route on one AsyncTinyKV, whichever store `open()` gave (see server.ts).
//   GET /products/:id   a slow lookup behind the response cache (X-Cache, Cache-Control, Age)
//   POST /login, GET /me, POST /logout   sessions in TinyKV through tinykv/session
//   GET /metrics        the store's counters for Prometheus
import express from 'express'
import type { Express } from 'express'
import session from 'express-session'
import type { AsyncTinyKV } from 'tinykv'
import { TinyKVStore } from 'tinykv/session'
import { authRoutes, SESSION_COOKIE } from './auth.js'
import { responseCache } from './cache.js'
import { createCatalog } from './catalog.js'
import type { Catalog } from './catalog.js'
import { metricsHandler } from './metrics.js'

export interface AppOptions {
  /** The store: `await open({ url: process.env.TINYKV_URL })`. */
  kv: AsyncTinyKV
  /** Signs the session cookie; the same in every process that shares sessions. */
  sessionSecret: string
  /** How long a product page is served from the cache, in ms (default 30 s). */
  cacheTtl?: number
  /** How long a session lives without a request, in ms (default 30 min). */
  sessionMaxAge?: number
  /** Where products come from (default: a slow stand-in). */
  catalog?: Catalog
}

export function createApp({ kv, sessionSecret, cacheTtl = 30_000, sessionMaxAge = 30 * 60_000, catalog = createCatalog() }: AppOptions): Express {
  const app = express()
  app.use(express.json())
  app.use(express.urlencoded({ extended: false }))

  // Sessions: in the store's 'sessions' namespace, each with the TTL of its cookie.
  app.use(
    session({
      store: new TinyKVStore({ client: kv }),
      name: SESSION_COOKIE,
      secret: sessionSecret,
      resave: false, // the store's touch() renews unchanged sessions
      saveUninitialized: false, // no session (and no cookie) until login
      cookie: { maxAge: sessionMaxAge, httpOnly: true, sameSite: 'lax', secure: 'auto' },
    }),
  )
  app.use(authRoutes())

  // Public pages, cached by URL in a namespace of their own.
  app.use('/products', responseCache({ kv: kv.namespace('http-cache'), ttl: cacheTtl }))
  app.get('/products/:id', async (req, res, next) => {
    try {
      const product = await catalog.find(req.params.id)
      if (!product) {
        res.status(404).json({ error: `no product ${req.params.id}` })
        return
      }
      res.json(product)
    } catch (err) {
      next(err)
    }
  })

  app.get('/metrics', metricsHandler(kv))
  return app
}
