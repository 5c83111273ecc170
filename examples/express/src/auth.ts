// A session login flow on express-session, whose sessions live in TinyKV (tinykv/session):
//   POST /login  { "username": "ada" }  a fresh session for the user, and its cookie
//   GET  /me                            who is logged in (401 if nobody); renews the session's TTL
//   POST /logout                        destroys the session and clears the cookie
// There is no password here, to keep the example about sessions: check credentials in /login.
import express from 'express'
import type { Router } from 'express'

// What this app keeps in a session: express-session's way of typing `req.session`.
declare module 'express-session' {
  interface SessionData {
    user: string
    loggedInAt: string
  }
}

/** The session cookie's name (express-session's default is `connect.sid`). */
export const SESSION_COOKIE = 'sid'

export function authRoutes(): Router {
  const router = express.Router()
  router.post('/login', (req, res, next) => {
    const username: unknown = req.body?.username
    if (typeof username !== 'string' || !/^[\w.-]{1,64}$/.test(username)) {
      res.status(400).json({ error: 'username must be 1 to 64 letters, digits, _ . or -' })
      return
    }
    // A new session id at login, so an id planted in the browser before it is worth nothing.
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = username
      req.session.loggedInAt = new Date().toISOString()
      res.json({ user: username })
    })
  })
  router.get('/me', (req, res) => {
    const { user, loggedInAt } = req.session
    if (!user) {
      res.status(401).json({ error: 'not logged in' })
      return
    }
    // The session is unchanged, so express-session calls the store's touch(): a new TTL.
    res.json({ user, loggedInAt })
  })
  router.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err)
      res.clearCookie(SESSION_COOKIE).json({ ok: true })
    })
  })
  return router
}
