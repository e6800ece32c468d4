import { CLIENTS_IN_MEMORY, keepWithin } from './bounded.ts'

const MAX_LENGTH = 256

/**
 * A memo of JSON.stringify for strings that come again and again: a call costs about 850
 * instructions however short the string, a lookup a tenth. Bounded in count and in the length
 * of what it keeps. Strings of one kind share a memo of a size that fits them, so that one
 * kind cannot evict another: the client addresses a busy server sees, which its callers
 * choose, would otherwise push out the ids of the clients it serves.
 */
export function jsonStringMemo(capacity: number): (value: string) => string {
  const memo = new Map<string, string>()
  return (value) => {
    if (value.length > MAX_LENGTH) return JSON.stringify(value)
    let json = memo.get(value)
    if (json === undefined) {
      json = JSON.stringify(value)
      memo.set(value, json)
      keepWithin(memo, capacity)
    }
    return json
  }
}

/**
 * The claims' client ids and subjects: two a client for every client kept in memory, its id
 * and a subject of its own.
 */
export const clientJson = jsonStringMemo(2 * CLIENTS_IN_MEMORY)
