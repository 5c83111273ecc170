// Starts the app. One environment variable picks the store:
//   npm start                                                # in-process: this process only
//   TINYKV_URL=unix://$XDG_RUNTIME_DIR/tinykv.sock npm start  # the daemon: shared by every process
// PORT (default 3000), HOST (127.0.0.1) and SESSION_SECRET (required with NODE_ENV=production)
// are the other settings.
import { open } from 'tinykv'
import { createApp } from './app.js'

const kv = await open({ url: process.env.TINYKV_URL })

const DEV_SECRET = 'tinykv-example-dev-secret'
let sessionSecret = process.env.SESSION_SECRET ?? ''
if (sessionSecret === '') {
  if (process.env.NODE_ENV === 'production') {
    console.error('SESSION_SECRET must be set in production: it signs the session cookies')
    process.exit(1)
  }
  sessionSecret = DEV_SECRET
}

const host = process.env.HOST ?? '127.0.0.1'
const app = createApp({ kv, sessionSecret })
const server = app.listen(Number(process.env.PORT ?? 3000), host, (err?: Error) => {
  if (err) throw err
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : address
  const where = kv.backend === 'in-process' ? 'an in-process store' : `${kv.backend} at ${process.env.TINYKV_URL}`
  console.log(`listening on http://${host}:${port} with ${where} (try /products/1, POST /login, /me, /metrics)`)
})

// Stop on SIGINT/SIGTERM: finish in-flight requests, then close the store.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => {
      kv.close().then(() => process.exit(0), () => process.exit(1))
    })
    server.closeIdleConnections()
  })
}
