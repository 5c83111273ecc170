import { resolve } from 'node:path'
import type { NextConfig } from 'next'

// The three lines to copy into your own next.config: TinyKV holds Next's caches. With no
// TINYKV_URL they live in this process's memory; with TINYKV_URL=unix:///path/tinykv.sock (or
// redis://127.0.0.1:6380) every `next start` pointed at that daemon shares them, revalidations
// included. The URL is read at `next start`, so one build runs either way.
const nextConfig: NextConfig = {
  // ISR pages, route handlers and the data cache (fetch / unstable_cache)
  cacheHandler: require.resolve('tinykv/next/cache-handler'),
  // 'use cache' functions and components ('use cache: remote' too)
  cacheHandlers: {
    default: require.resolve('tinykv/next/use-cache-handler'),
    remote: require.resolve('tinykv/next/use-cache-handler'),
  },
  // No second copy of every entry in Next's own memory: TinyKV is the cache.
  cacheMaxMemorySize: 0,

  // This app keeps route-segment `export const revalidate` (classic ISR), which Next 16 allows
  // only without `cacheComponents`; `useCache` turns on the 'use cache' directive beside it.
  // An app with `cacheComponents: true` needs neither line and uses the handlers above as is.
  experimental: { useCache: true },

  // Only because this example links tinykv from its repository (`file:../..`) rather than
  // installing it: the workspace is the repository, and Turbopack reports the addon loader's
  // probes for other platforms' binaries, which it does not for a package in node_modules.
  outputFileTracingRoot: resolve(__dirname, '../..'),
  turbopack: {
    root: resolve(__dirname, '../..'),
    ignoreIssue: [{ path: /(^|\/)index\.js$/, title: /Module not found/ }],
  },
}

export default nextConfig
