// Reads what the Dockerfile's final stage runs (exec-form ENTRYPOINT, CMD and HEALTHCHECK are
// JSON arrays, so JSON.parse is their parser), and maps an image command line onto the host:
// the entrypoint to the binary under test, the image's directories to temp dirs, and its fixed
// ports to 0 so the daemon picks free ones.

/** The final stage's `entrypoint`, `cmd`, `healthcheck` (its CMD array) and `volumes`. */
export function dockerfile(text) {
  const instructions = text
    .replace(/\\\n/g, ' ') // line continuations
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, op, rest] = line.match(/^(\S+)\s+(.*)$/)
      return { op: op.toUpperCase(), rest }
    })
  const lastFrom = instructions.findLastIndex((i) => i.op === 'FROM')
  const final = instructions.slice(lastFrom + 1)
  const json = (op) => {
    const found = final.findLast((i) => i.op === op)
    if (!found) throw new Error(`the Dockerfile's final stage has no ${op}`)
    return found.rest
  }
  const healthcheck = json('HEALTHCHECK')
  return {
    entrypoint: JSON.parse(json('ENTRYPOINT')),
    cmd: JSON.parse(json('CMD')),
    healthcheck: JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)),
    volumes: JSON.parse(json('VOLUME')),
  }
}

// Flags whose value is a fixed port of the image; on the host the daemon takes port 0.
const PORT_FLAGS = { '--port': () => '0', '--metrics-addr': (v) => v.replace(/:\d+$/, ':0') }

/**
 * `argv` (an image command line) as the host runs it: `{ bin, args }`. `paths` maps an image
 * directory (`/data`) to a host one; `entrypoint` (the image's binary) becomes `bin`.
 */
export function hostCommand(argv, { entrypoint, bin, paths }) {
  const dirs = Object.keys(paths).sort((a, b) => b.length - a.length)
  const args = argv.slice(1).map((arg, i, all) => {
    const flag = PORT_FLAGS[all[i - 1]]
    if (flag) return flag(arg)
    const dir = dirs.find((d) => arg === d || arg.startsWith(`${d}/`))
    return dir ? paths[dir] + arg.slice(dir.length) : arg
  })
  return { bin: argv[0] === entrypoint ? bin : argv[0], args }
}
