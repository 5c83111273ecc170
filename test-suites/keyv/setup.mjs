// Starts the TinyKV daemon ($TINYKV_BIN, see __test__/helpers/servers.mjs) for daemon.test.mjs,
// hands its URL to the test files, and stops it when the run ends.
import { startDaemon } from '../../__test__/helpers/servers.mjs'

export default async function setup({ provide }) {
  const daemon = await startDaemon()
  provide('tinykvUrl', `unix://${daemon.sock}`)
  return () => daemon.stop()
}
