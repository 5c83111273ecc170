// The npm packages as the release publishes them, packed by scripts/release-npm.sh from the
// addon `npm run build` made: the main package (with its optionalDependencies) and this
// machine's platform package. For the tests that install them into a fresh app.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
/** napi's name for this machine's platform, as in `tinykv.linux-x64-gnu.node`. */
export const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`
export const bindingName = `${pkg.napi.packageName}-${platform}`
export const addon = `${pkg.napi.binaryName}.${platform}.node`

/** Packs both into `dir`; returns `{ main, binding }`, the tarballs' paths. */
export function packRelease(dir) {
  const host = spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout.match(/^host: (.+)$/m)[1]
  // The build jobs' upload: each addon in a folder of its own.
  const artifacts = join(dir, 'artifacts')
  mkdirSync(join(artifacts, `bindings-${host}`), { recursive: true })
  copyFileSync(join(root, addon), join(artifacts, `bindings-${host}`, addon))
  const packed = join(dir, 'packed')
  const r = spawnSync(join(root, 'scripts/release-npm.sh'), ['--artifacts', artifacts, '--pack', packed, '--only', host], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`release-npm.sh failed:\n${r.stdout}${r.stderr}`)
  const files = readdirSync(packed)
  const binding = files.find((f) => f.startsWith(bindingName.replace('@', '').replace('/', '-')))
  return { main: join(packed, `${pkg.name}-${pkg.version}.tgz`), binding: join(packed, binding) }
}
