import assert from 'node:assert/strict'
import { test } from 'node:test'
import { verifyEach } from '../verifier.ts'

test('the correctness check verifies every token once, never more than the slices have in flight', async () => {
  const tokens = Array.from({ length: 50 }, (_, i) => `token-${i}`)
  const seen: string[] = []
  let inFlight = 0
  let most = 0
  await verifyEach(
    async (token) => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      seen.push(token)
      inFlight--
    },
    tokens,
    16,
  )
  assert.deepEqual([...seen].sort(), [...tokens].sort())
  assert.equal(most, 16)
})

test('the correctness check fails when one token is refused', async () => {
  const tokens = ['good', 'bad', 'good']
  await assert.rejects(
    verifyEach(async (token) => assert.equal(token, 'good'), tokens, 2),
    /bad/,
  )
})
