import { CLIENTS_IN_MEMORY, keepWithin } from './bounded.ts'

/**
 * JSON.stringify of a string that comes again and again (a client's id, its scope, an
 * audience, an address): a call costs about 850 instructions however short the string, a
 * lookup a tenth. The memo is bounded in count and in the length of what it keeps: two
 * strings a client (its id and a subject of its own) for every client kept in memory.
 */
export function jsonString(value: string): string {
  if (value.length > MAX_LENGTH) return JSON.stringify(value)
  let json = JSON_STRINGS.get(value)
  if (json === undefined) {
    json = JSON.stringify(value)
    JSON_STRINGS.set(value, json)
    keepWithin(JSON_STRINGS, 2 * CLIENTS_IN_MEMORY)
  }
  return json
}

const JSON_STRINGS = new Map<string, string>()
const MAX_LENGTH = 256
