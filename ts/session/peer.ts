/**
 * express-session is an optional peer dependency: only `tinykv/session` needs it. It is loaded
 * here, once, so an app that imports `tinykv/session` without it installed gets an error that
 * says what to install instead of a bare `Cannot find module` from inside this package.
 */
import type * as ExpressSession from 'express-session'

/** The express-session module as the app installed it. */
export type ExpressSessionModule = typeof ExpressSession

/** `require('express-session')`, or an Error naming the missing peer dependency. */
export function loadExpressSession(): ExpressSessionModule {
  try {
    return require('express-session') as ExpressSessionModule
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    // Only a missing express-session itself: a broken install inside it keeps its own error.
    if (e?.code === 'MODULE_NOT_FOUND' && /'express-session'/.test(String(e.message))) {
      throw new Error('tinykv/session needs the express-session package, an optional peer dependency of tinykv: npm install express-session', { cause: err })
    }
    throw err
  }
}
