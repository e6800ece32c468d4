import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { KeyManager, KeyRing, ManualClock, MasterKeyCipher, MemoryStore } from '../src/index.ts'
import { CryptoSignatures } from '../src/keys/crypto-signatures.ts'
import { AccessTokenIssuer } from '../src/tokens/access-token.ts'

async function issuer(name = 'https://issuer.example/"q"') {
  const clock = new ManualClock()
  const store = new MemoryStore({ clock })
  const cipher = new MasterKeyCipher(randomBytes(32))
  await new KeyManager({ store, cipher, clock, algorithm: 'EdDSA', leadTime: 60 }).rotate({ now: true })
  const keys = new KeyRing({ store, cipher, clock, maxTtl: 3600, signatures: new CryptoSignatures() })
  await keys.reload()
  return { clock, tokens: new AccessTokenIssuer({ keys, clock, issuer: name, typ: 'at+jwt' }) }
}

test('the claims set written directly is the one JSON.stringify would write, escapes and all', async () => {
  const { clock, tokens } = await issuer()
  const now = Math.floor(clock.now() / 1000)
  for (const claims of [
    { clientId: 'c-1', subject: 'c-1', scopes: ['read', 'write'], audience: 'https://api.example' },
    { clientId: 'c-2', subject: 'user "two"\\\n\u2028', scopes: [], audience: ['a', 'b"'] },
    { clientId: 'c-\ud800', subject: 'c-3', scopes: ['x'], audience: 'aud', extra: { act: { sub: 'c-9' } } },
  ]) {
    const issued = await tokens.issue({ ...claims, ttl: 300 })
    assert.equal(decodeProtectedHeader(issued.token).typ, 'at+jwt')
    const expected = {
      ...(claims.extra ?? {}),
      iss: 'https://issuer.example/"q"',
      sub: claims.subject,
      aud: claims.audience,
      exp: now + 300,
      iat: now,
      jti: issued.jti,
      client_id: claims.clientId,
      ...(claims.scopes.length > 0 ? { scope: claims.scopes.join(' ') } : {}),
    }
    assert.deepEqual(decodeJwt(issued.token), expected)
    const payload = Buffer.from(issued.token.split('.')[1]!, 'base64url').toString('utf8')
    assert.equal(payload, JSON.stringify(expected), 'byte for byte, in the same order')
  }
})

test('every token has a jti of its own', async () => {
  const { tokens } = await issuer()
  const claims = { clientId: 'c', subject: 'c', scopes: [], audience: 'a', ttl: 60 }
  const jtis = new Set<string>()
  for (let i = 0; i < 50; i++) jtis.add((await tokens.issue(claims)).jti)
  assert.equal(jtis.size, 50)
})
