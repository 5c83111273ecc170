// Stands in for the slow thing an app caches (a database, another service): each load waits
// `delayMs` and is counted, so a test can see the cache spare it.

export interface Product {
  id: string
  name: string
  loadedAt: string
}

export interface Catalog {
  /** How many loads reached the source. */
  readonly loads: number
  /** The product `id`, or undefined when there is none (ids are 1 to 1000 here). */
  find(id: string): Promise<Product | undefined>
}

export function createCatalog(delayMs = 50): Catalog {
  let loads = 0
  return {
    get loads() {
      return loads
    },
    async find(id) {
      loads++
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      const n = Number(id)
      if (!Number.isInteger(n) || n < 1 || n > 1000) return undefined
      return { id, name: `product ${id}`, loadedAt: new Date().toISOString() }
    },
  }
}
