// @ts-check
// The JS side of `mget` (src/node/hot.rs includes this file and runs it once per instance):
// checks the keys are strings, joins them so they cross the N-API boundary as one string, and
// slices the packed answer (see `batch::mget_packed`). Anything unusual goes to the native
// path, which throws the same errors as before.
;(
  /**
   * @param {(keys: unknown, joined?: string, ends?: Int32Array) => unknown} raw
   * @returns {(keys: unknown) => unknown}
   */
  function (raw) {
    'use strict'
    let ends = new Int32Array(128)
    return function mget(keys) {
      if (!Array.isArray(keys) || keys.length === 0) return raw(keys)
      const n = keys.length
      for (let i = 0; i < n; i++) if (typeof keys[i] !== 'string') return raw(keys)
      if (ends.length < n) ends = new Int32Array(n)
      const packed = raw(keys, keys.join('\0'), ends)
      if (typeof packed !== 'string') return packed
      const out = new Array(n)
      let start = 0
      for (let i = 0; i < n; i++) {
        const end = ends[i]
        if (end < 0) {
          out[i] = undefined
        } else {
          out[i] = packed.slice(start, end)
          start = end
        }
      }
      return out
    }
  }
)
