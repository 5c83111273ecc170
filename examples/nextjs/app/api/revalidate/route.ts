import { revalidateTag } from 'next/cache'

// On-demand revalidation: `{ expire: 0 }` expires the tag at once, so the next request (to this
// process or to any other sharing the TinyKV daemon) renders afresh. `'max'` would instead serve
// the old entry once more while a new one renders in the background.
export async function POST() {
  revalidateTag('forecast', { expire: 0 })
  return Response.json({ revalidated: 'forecast', at: Date.now(), servedBy: process.pid })
}
