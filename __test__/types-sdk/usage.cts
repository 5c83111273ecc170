// The same declarations from a CommonJS TypeScript file (`require` through `import =`).
import tinykv = require('tinykv')
import client = require('tinykv/client')

async function main(): Promise<void> {
  const kv: tinykv.AsyncTinyKV = await tinykv.open()
  const v: string | undefined = await kv.get('k')
  const c: typeof client.TinyKVClient = tinykv.TinyKVClient
  // @ts-expect-error a wrong option name is a type error from CommonJS too
  await tinykv.open({ maxMemroy: '64mb' })
  void v
  void c
}
void main
