/**
 * How a Next.js cache entry becomes bytes in the store and back. Next's values carry Buffers
 * (`rscData`, a route's `body`), a `Map<string, Buffer>` (`segmentData`), `undefined` fields and
 * header arrays, which JSON would flatten; Node's own structured-clone serializer (`node:v8`)
 * round-trips every one of them exactly. A two-byte header (a magic byte and a format version)
 * lets a reader refuse bytes it did not write instead of misreading them.
 */
import { deserialize, serialize } from 'node:v8'

const MAGIC = 0x4e // 'N'
const VERSION = 1

/** `value` as the bytes the store keeps. Throws a `TypeError` for what structured clone cannot copy (a function, a symbol). */
export function encodeEntry(value: unknown): Buffer {
  let body: Buffer
  try {
    body = serialize(value)
  } catch (err) {
    throw new TypeError(`tinykv/next: a cache entry must be plain data (strings, numbers, Buffers, Maps, arrays, objects): ${(err as Error).message}`)
  }
  return Buffer.concat([Buffer.from([MAGIC, VERSION]), body])
}

/** The value `encodeEntry` made, or `undefined` for bytes this format did not write (a foreign key, another version). */
export function decodeEntry(bytes: Buffer): unknown {
  if (bytes.length < 2 || bytes[0] !== MAGIC || bytes[1] !== VERSION) return undefined
  try {
    return deserialize(bytes.subarray(2))
  } catch {
    return undefined
  }
}
