/**
 * How many clients the token path keeps in memory. The client directory, the credential cache,
 * the parsed secret hashes and the JSON memo are all sized from it (the last two at two
 * entries a client): a smaller one beside the others thrashes, because clients served in turn
 * evict, oldest first, the very entries that come round next. With 10,000 clients in use, a
 * JSON memo of 10,000 entries missed on every request (`npm run bench -- --clients 1000000`).
 */
export const CLIENTS_IN_MEMORY = 100_000

/**
 * Keeps a Map (which iterates in insertion order) within `capacity` by dropping its oldest
 * tenth in one pass when it grows past it. One entry at a time would be slow: a Map walks
 * over its deleted front entries each time it looks for the first live one.
 */
export function keepWithin(map: Map<unknown, unknown>, capacity: number): void {
  if (map.size <= capacity) return
  let drop = Math.max(1, Math.floor(capacity / 10))
  for (const key of map.keys()) {
    if (drop-- === 0) break
    map.delete(key)
  }
}
