import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { CLIENTS_IN_MEMORY } from '../src/bounded.ts'
import { clientJson, jsonStringMemo } from '../src/json-string.ts'

/** How many times `run` called JSON.stringify: each miss of a memo calls it once. */
function stringifyCalls(run: () => void): number {
  const stringify = mock.method(JSON, 'stringify')
  try {
    run()
    return stringify.mock.callCount()
  } finally {
    stringify.mock.restore()
  }
}

test('clientJson writes what JSON.stringify writes, the first time and after', () => {
  const strings = [
    '',
    'plain',
    'a "quote" and \\ and \n\t\u0001',
    '\u2028\u2029',
    'lone \ud800 half',
    'é✓',
    'x'.repeat(300),
  ]
  for (let round = 0; round < 3; round++)
    for (const value of strings) assert.equal(clientJson(value), JSON.stringify(value))
})

test('clientJson keeps the ids of as many clients as the token path keeps in memory, served in turn', () => {
  // Clients served in turn are the memo's worst case: one smaller than the set in use evicts,
  // oldest first, the ids that come round next, and then misses on every one of them.
  const ids = Array.from({ length: CLIENTS_IN_MEMORY }, (_, i) => `memo-test-client-${i}`)
  for (const id of ids) clientJson(id)
  assert.equal(
    stringifyCalls(() => {
      for (const id of ids) assert.equal(clientJson(id), `"${id}"`)
    }),
    0,
  )
})

test('a flood of new strings through one memo evicts nothing from another', () => {
  const ids = jsonStringMemo(100)
  const addresses = jsonStringMemo(100)
  const kept = Array.from({ length: 100 }, (_, i) => `flood-test-client-${i}`)
  for (const id of kept) ids(id)
  for (let i = 0; i < 10_000; i++) addresses(`2001:db8::${i.toString(16)}`)
  assert.equal(
    stringifyCalls(() => {
      for (const id of kept) assert.equal(ids(id), `"${id}"`)
    }),
    0,
  )
})
