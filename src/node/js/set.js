// @ts-check
// The JS side of `set` (src/node/hot.rs includes this file and runs it once per instance):
// with an options object, reads its four options in JS (a few ns each, where a named-property
// lookup through N-API costs about a hundred) and passes them as arguments to the native `set`
// that takes them apart (see `ops::set_flat`). Without options, or with anything but an
// object, it calls the native `set` as is, which also throws the errors for a wrong options
// value. The option names here are `args::SET_OPTIONS`, in the same order.
;(
  /**
   * @param {(key: unknown, value: unknown, options?: unknown) => unknown} raw
   * @param {(key: unknown, value: unknown, ttl: unknown, nx: unknown, xx: unknown, keepTtl: unknown) => unknown} flat
   * @returns {(key: unknown, value: unknown, options?: unknown) => unknown}
   */
  function (raw, flat) {
    'use strict'
    return function set(key, value, options) {
      if (options === undefined) return raw(key, value)
      if (typeof options !== 'object' || options === null) return raw(key, value, options)
      const o = /** @type {{ ttl?: unknown, nx?: unknown, xx?: unknown, keepTtl?: unknown }} */ (options)
      return flat(key, value, o.ttl, o.nx, o.xx, o.keepTtl)
    }
  }
)
