/**
 * Warnings from the Next.js handlers. A cache that cannot reach its store must not take pages
 * down with it: a failed read is a miss and a failed write is skipped, each reported here. The
 * report is rate-limited per message so a daemon that is down does not print once per request.
 */
const QUIET_MS = 30_000
const lastPrinted = new Map<string, number>()

/** Prints `tinykv/next: <what>: <error>` unless the same line was printed in the last 30 s. */
export function warn(what: string, err: unknown): void {
  const line = `tinykv/next: ${what}: ${err instanceof Error ? err.message : String(err)}`
  const now = Date.now()
  const last = lastPrinted.get(line)
  if (last !== undefined && now - last < QUIET_MS) return
  lastPrinted.set(line, now)
  console.warn(line)
}
