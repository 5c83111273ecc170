// @ts-check
// The JS side of `getOrSet`, `getOrSetJSON` and `getOrSetBuffer` (src/node/hot.rs includes
// this file and runs it once per handle): a fresh hit is one native `get` and answers the
// value itself, with no Promise; anything else goes to `claim` (src/node/get_or_set.rs), which
// makes this caller the one that runs its loader for the key in the whole process, or hands
// back a promise of that caller's result. The loader's value goes to `finish`, its error to
// `fail`, so every waiter, in any thread, is settled.
//
// It also defines `shareByName`, an enumerable getter that throws: structured clone
// (`postMessage`, `structuredClone`) reads it and so refuses a handle with that message.
;(
  /**
   * @param {object} kv the handle
   * @param {(key: unknown) => string | undefined} get
   * @param {(key: unknown) => Uint8Array | undefined} getBuffer
   * @param {(key: unknown, staleTtl: unknown, mode: number) => unknown} fresh
   * @param {(key: unknown, mode: number, ttl: unknown, staleTtl: unknown) => any[]} claim
   * @param {(token: number, value: unknown) => unknown} finish
   * @param {(token: number, message: string) => void} fail
   */
  function (kv, get, getBuffer, fresh, claim, finish, fail) {
    'use strict'
    const TEXT = 0
    const BUFFER = 1
    const JSON_MODE = 2
    const NAMES = ['getOrSet', 'getOrSetBuffer', 'getOrSetJSON']

    /** @param {unknown} e */
    function describe(e) {
      const m = e instanceof Error ? e.message : String(e)
      return m.length > 500 ? m.slice(0, 500) + '...' : m
    }

    /**
     * Runs the loader as the leader of token's flight and hands its result on.
     * @param {number} mode
     * @param {number} token
     * @param {unknown} key
     * @param {(key: unknown) => unknown} loader
     */
    async function lead(mode, token, key, loader) {
      let value
      try {
        value = await loader(key)
        if (mode === JSON_MODE) {
          const text = JSON.stringify(value)
          if (text === undefined) {
            throw new TypeError(`TinyKV.getOrSetJSON: the loader's value has no JSON form (got ${typeof value})`)
          }
          finish(token, text)
          return value
        }
      } catch (e) {
        fail(token, describe(e))
        throw e
      }
      // `finish` ends the flight itself when it throws (a value it cannot store).
      return finish(token, value)
    }

    /**
     * @param {number} mode
     * @param {unknown} text
     */
    function answer(mode, text) {
      return mode === JSON_MODE ? JSON.parse(/** @type {string} */ (text)) : text
    }

    /**
     * Everything but a fresh hit: always a Promise.
     * @param {number} mode
     * @param {unknown} key
     * @param {unknown} loader
     * @param {unknown} options
     */
    async function slow(mode, key, loader, options) {
      if (typeof loader !== 'function') {
        throw new TypeError(`TinyKV.${NAMES[mode]}: loader must be a function, got ${typeof loader}`)
      }
      if (options !== undefined && options !== null && typeof options !== 'object') {
        throw new TypeError(`TinyKV.${NAMES[mode]}: options must be an object, got ${typeof options}`)
      }
      const o = /** @type {{ ttl?: unknown, staleTtl?: unknown }} */ (options ?? {})
      const r = claim(key, mode, o.ttl, o.staleTtl)
      switch (r[0]) {
        case 0:
          return answer(mode, r[1])
        case 1:
          return lead(mode, r[1], key, /** @type {(key: unknown) => unknown} */ (loader))
        case 2:
          return r[1]
        case 3:
          // Stale: answer now, refresh in the background (its error reaches its waiters).
          lead(mode, r[2], key, /** @type {(key: unknown) => unknown} */ (loader)).catch(() => {})
          return answer(mode, r[1])
        default:
          return answer(mode, r[1])
      }
    }

    /**
     * @param {number} mode
     * @param {(key: unknown) => unknown} read the fresh-hit read
     */
    function method(mode, read) {
      /**
       * @param {unknown} key
       * @param {unknown} loader
       * @param {unknown} [options]
       */
      return function getOrSet(key, loader, options) {
        if (typeof key === 'string' && typeof loader === 'function') {
          const stale = options == null ? undefined : /** @type {{ staleTtl?: unknown }} */ (options).staleTtl
          let v
          try {
            v = stale === undefined ? read(key) : fresh(key, stale, mode)
          } catch {
            // A closed store or a key with no UTF-8 form: the slow path rejects with the
            // error under this method's name.
            return slow(mode, key, loader, options)
          }
          if (v !== undefined) {
            if (mode !== JSON_MODE) return v
            try {
              return JSON.parse(/** @type {string} */ (v))
            } catch (e) {
              return Promise.reject(e)
            }
          }
        }
        return slow(mode, key, loader, options)
      }
    }

    const own = { writable: true, configurable: true, enumerable: false }
    Object.defineProperties(kv, {
      getOrSet: { ...own, value: method(TEXT, get) },
      getOrSetBuffer: { ...own, value: method(BUFFER, getBuffer) },
      getOrSetJSON: { ...own, value: method(JSON_MODE, get) },
      shareByName: {
        configurable: true,
        enumerable: true,
        get() {
          throw new TypeError(
            'TinyKV: a handle cannot be cloned or sent to another thread (postMessage); ' +
              'open the same store there by name: new TinyKV({ name })',
          )
        },
      },
    })
  }
)
