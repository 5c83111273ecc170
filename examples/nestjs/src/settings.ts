// The app's settings, read from the environment when used (so a test can set them first).

/** A positive number of milliseconds from `name`, or `fallback` when it is unset. */
function ms(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${JSON.stringify(raw)}`)
  return value
}

/** How long a product page stays cached (`@CacheTTL` on the controller). */
export const productTtl = (): number => ms('PRODUCT_TTL_MS', 30_000)

/** How long a price stays cached (the service's own `wrap`). */
export const priceTtl = (): number => ms('PRICE_TTL_MS', 5_000)
