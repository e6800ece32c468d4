import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jsonString } from '../src/json-string.ts'

test('jsonString writes what JSON.stringify writes, the first time and after', () => {
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
    for (const value of strings) assert.equal(jsonString(value), JSON.stringify(value))
})
