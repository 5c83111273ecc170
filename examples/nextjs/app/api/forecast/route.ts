import { getForecast } from '../../../lib/forecast'

// Runs on every request; only the 'use cache' function inside is cached.
export const dynamic = 'force-dynamic'

export async function GET() {
  return Response.json({ forecast: await getForecast(), servedBy: process.pid })
}
