#!/usr/bin/env node
// `npx tinykv`: the same command line and REPL as the cargo binary, run in-process through the
// addon's runCli. stdin/stdout are used directly by Rust, so this shim must not touch them.
'use strict'
const { runCli } = require('../index.js')

process.exitCode = runCli(process.argv.slice(2))
