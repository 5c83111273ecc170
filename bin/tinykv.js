#!/usr/bin/env node
// `npx tinykv`: the same command line and REPL as the cargo binary, run in-process through the
// addon's runCli. stdin/stdout are used directly by Rust, so this shim must not touch them.
//
// `serve` runs through runCliAsync instead: the daemon runs on a worker thread with no signal
// handlers of its own, and this thread owns SIGINT and SIGTERM, forwarding each to it with
// requestShutdown() (the first stops it gracefully, exit 0; a second, 250 ms or more later,
// exits at once, 130). On Windows, Ctrl-Break arrives as SIGBREAK and is forwarded too.
// Inside Node a daemon that handled signals itself would loop forever between tokio's handler
// and Node's, which re-raise each other.
'use strict'
const { runCli, runCliAsync, requestShutdown } = require('../index.js')

const args = process.argv.slice(2)
if (args[0] === 'serve') {
  // Under npm (npx, npm run), a Ctrl-C reaches this process twice within milliseconds: from the
  // terminal, and forwarded by npm. A signal within REPEAT_MS of the last one forwarded is
  // taken as that same one, so Ctrl-C stays graceful and only a deliberate second one forces.
  const REPEAT_MS = 250
  let last = -Infinity
  const forward = () => {
    const now = performance.now()
    if (now - last < REPEAT_MS) return
    last = now
    requestShutdown()
  }
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  if (process.platform === 'win32') process.on('SIGBREAK', forward)
  runCliAsync(args).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      process.stderr.write(`tinykv serve: ${err && err.message}\n`)
      process.exitCode = 1
    },
  ).finally(() => {
    process.off('SIGINT', forward)
    process.off('SIGTERM', forward)
    process.off('SIGBREAK', forward)
  })
} else {
  process.exitCode = runCli(args)
}
