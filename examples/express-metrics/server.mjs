// An Express app that caches a slow lookup in TinyKV and serves the cache's Prometheus metrics.
//
//   npm run build && node examples/express-metrics/server.mjs   # PORT=3000 by default
//   curl localhost:3000/users/7        # first call: X-Cache: miss (about 50 ms), then hit
//   curl localhost:3000/metrics        # tinykv_keyspace_hits_total, tinykv_used_memory_bytes, ...
//
// `start({ port })` is exported so the test can run the app on port 0.
import express from 'express'
import { fileURLToPath } from 'node:url'
import { TinyKV } from 'tinykv'

/** Stands in for a database call: slow, and counted so a test can see the cache work. */
export function makeUserSource(delayMs = 50) {
  const source = {
    calls: 0,
    async load(id) {
      source.calls++
      await new Promise((r) => setTimeout(r, delayMs))
      return { id, name: `user ${id}`, loadedAt: Date.now() }
    },
  }
  return source
}

/** The app: GET /users/:id (cached for `ttl` ms) and GET /metrics. */
export function createApp({ kv, source, ttl = 30_000 }) {
  const app = express()
  const users = kv.namespace('users')
  app.get('/users/:id', async (req, res, next) => {
    try {
      const key = req.params.id
      let user = users.getJSON(key)
      res.set('X-Cache', user === undefined ? 'miss' : 'hit')
      if (user === undefined) {
        user = await source.load(key)
        users.setJSON(key, user, { ttl })
      }
      res.json(user)
    } catch (e) {
      next(e)
    }
  })
  app.get('/metrics', (req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(kv.metrics())
  })
  return app
}

/** Starts the app; resolves to `{ server, port, kv, source, close() }`. */
export function start({ port = 0, host = '127.0.0.1', kvOptions = { maxMemory: '64mb' } } = {}) {
  const kv = new TinyKV(kvOptions)
  const source = makeUserSource()
  const app = createApp({ kv, source })
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err) => {
      if (err) return reject(err)
      const close = () =>
        new Promise((done) => {
          server.closeAllConnections?.()
          server.close(() => {
            kv.close()
            done()
          })
        })
      resolve({ server, port: server.address().port, kv, source, close })
    })
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { port } = await start({ port: Number(process.env.PORT ?? 3000) })
  console.log(`listening on http://127.0.0.1:${port} (try /users/1 and /metrics)`)
}
