import { getForecast } from '../lib/forecast'

// ISR: rendered once, served from the `cacheHandler` store (TinyKV) for an hour, or until a tag
// it used ('forecast') is revalidated.
export const revalidate = 3600

export default async function Home() {
  const forecast = await getForecast()
  return (
    <main>
      <h1>TinyKV + Next.js</h1>
      <p>
        Page rendered at <time id="rendered-at">{new Date().toISOString()}</time>
      </p>
      <p>
        Forecast <code id="forecast-id">{forecast.id}</code>, made at <time id="forecast-made-at">{forecast.madeAt}</time>
      </p>
      <p>
        <code>curl -X POST localhost:3000/api/revalidate</code> revalidates the &apos;forecast&apos; tag: the next request renders
        afresh.
      </p>
    </main>
  )
}
