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
