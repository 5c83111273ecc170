// The public types of `tinykv`: the TinyKV class and the shapes it takes and returns.
export { TinyKV } from '../index.js'
export type { EntryInfo, GetOrSetOptions, NamespaceStats, OpenStore, SetOptions, TinyKVOptions, TinyKVStats } from '../index.js'
