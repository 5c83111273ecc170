// @ts-check
// The minimum Rust version Cargo.toml states must be the true one: no dependency in the lockfile
// may need a newer rustc than `rust-version` says. Only one toolchain can be installed here, so
// this reads every locked package's own `rust-version` from `cargo metadata` instead of
// building with the old compiler. Exits 1, naming the packages, when the floor is too low.
import { execFileSync } from 'node:child_process'

/** @param {string} v */
const parts = (v) => v.split('.').map(Number).concat([0, 0, 0]).slice(0, 3)
/** @param {string} a @param {string} b */
const cmp = (a, b) => {
  const [x, y] = [parts(a), parts(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]
  return 0
}

const meta = JSON.parse(
  execFileSync('cargo', ['metadata', '--format-version', '1', '--locked'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }),
)
/** @type {{ name: string, version: string, rust_version: string | null, source: string | null }[]} */
const packages = meta.packages
const own = packages.find((p) => p.source === null && p.name === 'tinykv')
if (!own || !own.rust_version) {
  console.error('check-msrv: Cargo.toml states no rust-version')
  process.exit(1)
}
const stated = own.rust_version
const newer = packages.filter((p) => p.rust_version && cmp(p.rust_version, stated) > 0)
const needed = packages.reduce((max, p) => (p.rust_version && cmp(p.rust_version, max) > 0 ? p.rust_version : max), stated)
if (newer.length > 0) {
  console.error(`check-msrv: Cargo.toml says rust-version ${stated}, but these need ${needed}:`)
  for (const p of newer) console.error(`  ${p.name} ${p.version} (rust-version ${p.rust_version})`)
  process.exit(1)
}
console.log(`check-msrv: rust-version ${stated} covers all ${packages.length} locked packages`)
