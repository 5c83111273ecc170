/**
 * express-session drives a store through Node-style callbacks; application code may prefer
 * Promises (connect-redis answers both). `settle` runs one operation and answers both ways:
 * with a callback, the error or the value goes to it, always asynchronously, and the returned
 * Promise never rejects (an error is never thrown past a callback); without one, the returned
 * Promise carries the value or the error.
 */

/** A Node-style callback: `(err)` on failure, `(null, value)` on success. */
export type Callback<T> = (err: unknown, value?: T) => void

/** The result of `work()` delivered to `cb` if given, else as the returned Promise. */
export function settle<T>(work: () => Promise<T>, cb: Callback<T> | undefined): Promise<T | void> {
  // `work` is async, so a synchronous throw inside it is a rejection too.
  const result = Promise.resolve().then(work)
  // null counts as no callback, as connect-redis has it.
  if (cb === undefined || cb === null) return result
  if (typeof cb !== 'function') return Promise.reject(new TypeError(`TinyKVStore: callback must be a function, got ${cb === null ? 'null' : typeof cb}`))
  // The callback runs outside the try of `work`: if it throws, it is not called a second time
  // with its own error (the throw surfaces as an unhandled rejection, as a bug should).
  return result.then(
    (value) => {
      cb(null, value)
    },
    (err: unknown) => {
      cb(err)
    },
  )
}
