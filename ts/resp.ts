/**
 * RESP on the client side, sans-I/O: `encode` turns a command into the bytes of a RESP array of
 * bulk strings, and `Parser` turns the bytes a server sends into replies, RESP2 and RESP3 alike.
 *
 * Reply shapes: simple and bulk strings as JS strings (or Buffers when the command asked for
 * them), integers as numbers (a bigint beyond 2^53, so nothing is rounded), nulls as `null`,
 * arrays, sets and RESP3 maps as arrays (a map flattened to `[k, v, ...]`, as RESP2 sends it),
 * and error replies as `ServerError` values (inside an array too, as EXEC returns them). Push
 * messages and attributes are skipped: they answer no command.
 */

/** A command argument as sent. */
export type Arg = string | Buffer

/** An error reply from the server: its text, as the value of a reply. */
export class ServerError {
  constructor(
    /** The server's message, verbatim (`ERR ...`, `WRONGPASS ...`). */
    readonly message: string,
  ) {}
}

/** A parsed reply. */
export type Reply = string | number | bigint | boolean | null | Buffer | ServerError | Reply[]

/** The RESP bytes of `args` as one string when every argument is a string, else a Buffer. */
export function encode(args: readonly Arg[]): string | Buffer {
  let head = `*${args.length}\r\n`
  let buffers: Buffer[] | undefined
  for (const a of args) {
    if (typeof a === 'string') {
      head += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
    } else {
      buffers ??= []
      buffers.push(Buffer.from(`${head}$${a.length}\r\n`), a)
      head = '\r\n'
    }
  }
  if (!buffers) return head
  buffers.push(Buffer.from(head))
  return Buffer.concat(buffers)
}

/** Thrown inside the parser when the buffer ends mid-reply: wait for more bytes. */
const INCOMPLETE = Symbol('incomplete')

/** Marks a reply that answers no command (a RESP3 push). */
const SKIP = Symbol('skip')

/** A streaming reply parser: feed it chunks, it calls `onReply` per complete reply. */
export class Parser {
  /** Bytes received and not yet consumed. */
  private buf: Buffer = Buffer.alloc(0)
  /** Read position inside `buf` while parsing. */
  private pos = 0

  constructor(
    /** Receives each reply, in order. */
    private readonly onReply: (reply: Reply) => void,
    /** Whether the reply now expected should carry bulk strings as Buffers. */
    private readonly wantsBuffer: () => boolean,
    /** Called with a description when the bytes are not RESP: the connection must close. */
    private readonly onProtocolError: (why: string) => void,
  ) {}

  /** Consumes `chunk`, delivering every reply it completes. */
  feed(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf.subarray(this.pos0), chunk])
    this.pos0 = 0
    for (;;) {
      if (this.pos0 >= this.buf.length) {
        this.buf = Buffer.alloc(0)
        this.pos0 = 0
        return
      }
      this.pos = this.pos0
      let reply: Reply | typeof SKIP
      try {
        reply = this.read(this.wantsBuffer())
      } catch (e) {
        if (e === INCOMPLETE) return
        this.buf = Buffer.alloc(0)
        this.pos0 = 0
        this.onProtocolError(e instanceof Error ? e.message : String(e))
        return
      }
      this.pos0 = this.pos
      if (reply !== SKIP) this.onReply(reply)
    }
  }

  /** Where the first unconsumed reply starts. */
  private pos0 = 0

  /** Forgets any partial reply (the connection it came from is gone). */
  reset(): void {
    this.buf = Buffer.alloc(0)
    this.pos0 = 0
  }

  /** The text up to the next CRLF, from `pos`, moving past it. */
  private line(): string {
    const end = this.buf.indexOf(13, this.pos)
    if (end < 0 || end + 1 >= this.buf.length) throw INCOMPLETE
    const s = this.buf.toString('latin1', this.pos, end)
    this.pos = end + 2
    return s
  }

  /** A length or count line as a number, read digit by digit (no string per reply). */
  private int(): number {
    const buf = this.buf
    let i = this.pos
    let negative = false
    if (buf[i] === 45) {
      negative = true
      i++
    }
    let n = 0
    for (;;) {
      if (i >= buf.length) throw INCOMPLETE
      const c = buf[i] as number
      if (c === 13) break
      if (c < 48 || c > 57) throw new Error(`bad length byte ${c}`)
      n = n * 10 + (c - 48)
      i++
    }
    if (i + 1 >= buf.length) throw INCOMPLETE
    this.pos = i + 2
    return negative ? -n : n
  }

  /** `n` bytes and the CRLF after them. */
  private bytes(n: number, asBuffer: boolean): string | Buffer {
    const end = this.pos + n
    if (end + 2 > this.buf.length) throw INCOMPLETE
    const v = asBuffer ? Buffer.from(this.buf.subarray(this.pos, end)) : this.buf.toString('utf8', this.pos, end)
    this.pos = end + 2
    return v
  }

  private read(asBuffer: boolean): Reply | typeof SKIP {
    if (this.pos >= this.buf.length) throw INCOMPLETE
    const type = this.buf[this.pos++]
    switch (type) {
      case 43: // + simple string
        return this.line()
      case 45: // - error
        return new ServerError(this.line())
      case 58: {
        // : integer
        const s = this.line()
        const n = Number(s)
        return Number.isSafeInteger(n) ? n : BigInt(s)
      }
      case 36: {
        // $ bulk string
        const n = this.int()
        return n < 0 ? null : this.bytes(n, asBuffer)
      }
      case 42: // * array
      case 126: // ~ set
      case 62: {
        // > push
        const n = this.int()
        if (n < 0) return null
        const out: Reply[] = new Array(n)
        for (let i = 0; i < n; i++) out[i] = this.element(asBuffer)
        return type === 62 ? SKIP : out
      }
      case 37: {
        // % map, flattened
        const n = this.int()
        const out: Reply[] = new Array(n * 2)
        for (let i = 0; i < n * 2; i++) out[i] = this.element(false)
        return out
      }
      case 95: // _ null
        this.line()
        return null
      case 35: // # boolean
        return this.line() === 't'
      case 44: // , double
        return Number(this.line().replace('inf', 'Infinity'))
      case 40: // ( big number
        return BigInt(this.line())
      case 61: {
        // = verbatim string: "txt:" then the text
        const v = this.bytes(this.int(), false) as string
        return v.slice(4)
      }
      case 33: // ! blob error
        return new ServerError(this.bytes(this.int(), false) as string)
      case 124: {
        // | attribute: a map that precedes the real reply
        const n = this.int()
        for (let i = 0; i < n * 2; i++) this.element(false)
        return this.read(asBuffer)
      }
      default:
        throw new Error(`unexpected byte ${type} at the start of a reply`)
    }
  }

  /** An element of an aggregate (pushes inside aggregates are kept as arrays). */
  private element(asBuffer: boolean): Reply {
    const r = this.read(asBuffer)
    return r === SKIP ? null : r
  }
}
