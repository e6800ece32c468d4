import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { mock, test } from 'node:test'
import { hashSecret, verifySecret, verifySecretFast } from '../src/secrets.ts'

test('an imported secret needs scrypt until it has verified once in this process, then checks as fast as a generated one', async () => {
  const stored = await hashSecret('imported-secret', 'imported')
  assert.match(stored, /^scrypt\$/)
  assert.equal(verifySecretFast('imported-secret', stored), undefined, 'only scrypt can tell at first')

  assert.equal(await verifySecret('imported-secreT', stored), false)
  assert.equal(verifySecretFast('imported-secret', stored), undefined, 'a wrong secret teaches nothing')

  assert.equal(await verifySecret('imported-secret', stored), true)
  assert.equal(verifySecretFast('imported-secret', stored), true, 'once verified, checked without scrypt')
  assert.equal(verifySecretFast('imported-secreT', stored), false, 'and a wrong one is refused as fast')
  assert.equal(await verifySecret('imported-secreT', stored), false)

  const reimported = await hashSecret('imported-secret', 'imported')
  assert.equal(
    verifySecretFast('imported-secret', reimported),
    undefined,
    'remembered by stored hash: a new hash of the same secret starts unknown',
  )
})

test('a generated secret checks synchronously, and a malformed hash never matches', async () => {
  const stored = await hashSecret('generated-secret', 'generated')
  assert.match(stored, /^s256\$/)
  assert.equal(verifySecretFast('generated-secret', stored), true)
  assert.equal(verifySecretFast('generated-secreT', stored), false)
  assert.equal(await verifySecret('anything', 'scrypt$broken'), false)
  assert.equal(await verifySecret('anything', 'bcrypt$2b$10$x'), false)
  const [, salt, digest] = stored.split('$') as [string, string, string]
  for (const broken of [
    `s256$${salt}`,
    `s256$${salt}$`,
    `s256$${salt}$${digest.slice(0, -1)}`,
    `s256$${salt}$${digest}A`,
    `s256$${salt}$${digest}$${digest}`,
    `s256$$${digest}`,
  ])
    assert.equal(verifySecretFast('generated-secret', broken), false, broken)
})

test('generated secrets check alike whatever their length and whichever hash came before', async () => {
  const secrets = ['s', 'generated-secret', 'é✓'.repeat(20), 'x'.repeat(5000)]
  const stored = await Promise.all(secrets.map((secret) => hashSecret(secret, 'generated')))
  for (let round = 0; round < 2; round++) {
    for (const [i, hash] of stored.entries()) {
      for (const [j, secret] of secrets.entries())
        assert.equal(verifySecretFast(secret, hash), i === j, `secret ${j} against hash ${i}`)
    }
  }
})

test('scrypt checks run one at a time, so wrong secrets cannot take the whole libuv pool', async () => {
  const stored = await hashSecret('queued-secret', 'imported')
  const original = crypto.scrypt
  let running = 0
  let most = 0
  const spy = mock.method(crypto, 'scrypt', (...args: unknown[]) => {
    running++
    most = Math.max(most, running)
    const done = args.pop() as (error: Error | null, key: Buffer) => void
    ;(original as (...a: unknown[]) => void)(...args, (error: Error | null, key: Buffer) => {
      running--
      done(error, key)
    })
  })
  syncBuiltinESMExports()
  try {
    const results = await Promise.all(
      ['wrong-1', 'wrong-2', 'wrong-3', 'queued-secret'].map((secret) => verifySecret(secret, stored)),
    )
    assert.deepEqual(results, [false, false, false, true])
    assert.equal(spy.mock.callCount(), 4)
    assert.equal(most, 1, 'never two at once')
  } finally {
    spy.mock.restore()
    syncBuiltinESMExports()
  }
})
