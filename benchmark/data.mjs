// The data both benches use: distinct flat 100-byte values and a random visiting order.

const vbuf = Buffer.alloc(100, '.')

/** A distinct, flat (sequential one-byte) 100-byte string per i, as an app would hold after I/O. */
export function value(i) {
  vbuf.fill('.')
  vbuf.write('value:' + i, 0, 'latin1')
  return vbuf.toString('latin1')
}

/** 0..n-1 in random order (Fisher-Yates). */
export function shuffled(n) {
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = order[i]
    order[i] = order[j]
    order[j] = t
  }
  return order
}
