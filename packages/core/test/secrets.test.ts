import assert from 'node:assert/strict'
import { test } from 'node:test'
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
})
