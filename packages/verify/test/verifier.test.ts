import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { inspect } from 'node:util'
import { type Clock, createVerifier, type Verifier, type VerifierOptions, VerifyError } from '../src/index.ts'
import { AUDIENCE, startIssuer, type TestIssuer } from './issuer.ts'

/** The error `promise` rejects with, which must be a VerifyError. */
async function refusal(promise: Promise<unknown>): Promise<VerifyError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof VerifyError) return error
    throw error
  }
  assert.fail('accepted')
}

async function assertRefused(promise: Promise<unknown>, code: string, status: number): Promise<VerifyError> {
  const error = await refusal(promise)
  assert.equal(error.code, code, error.description)
  assert.equal(error.status, status)
  return error
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('verify against an issuer of test keys', () => {
  let issuer: TestIssuer
  let verifier: Verifier
  const make = (options: Partial<VerifierOptions> = {}) =>
    createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri, ...options })

  before(async () => {
    issuer = await startIssuer()
    verifier = make()
  })
  after(() => issuer.stop())

  test('a valid token gives its typed claims', async () => {
    const token = await issuer.sign({
      aud: [AUDIENCE, 'https://other.example.com'],
      scope: 'prices.read prices.write',
    })
    const auth = await verifier.verify(token)
    assert.equal(auth.sub, 'client-1')
    assert.equal(auth.clientId, 'client-1')
    assert.deepEqual(auth.scopes, ['prices.read', 'prices.write'])
    assert.deepEqual(auth.aud, [AUDIENCE, 'https://other.example.com'])
    assert.equal(auth.exp - auth.iat, 300)
    assert.equal(typeof auth.jti, 'string')
    assert.equal(auth.act, undefined)
    assert.equal(auth.claims.iss, issuer.issuer)
  })

  test('act (RFC 8693 §4.1) is lifted; a malformed one is refused', async () => {
    const auth = await verifier.verify(await issuer.sign({ sub: 'child-1', act: { sub: 'client-1' } }))
    assert.deepEqual(auth.act, { sub: 'client-1' })
    await assertRefused(verifier.verify(await issuer.sign({ act: 'client-1' })), 'invalid_token', 401)
  })

  test('a token without scope has none', async () => {
    const auth = await verifier.verify(await issuer.sign({ scope: undefined }))
    assert.deepEqual(auth.scopes, [])
  })

  for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) {
    test(`a token without "${claim}" is invalid_token (RFC 9068 §2.2)`, async () => {
      const error = await assertRefused(
        verifier.verify(await issuer.sign({ [claim]: undefined })),
        'invalid_token',
        401,
      )
      assert.match(error.description, new RegExp(`"${claim}"`))
    })
  }

  for (const [claim, value] of [
    ['sub', 42],
    ['client_id', ['a']],
    ['jti', 7],
    ['scope', ['prices.read']],
    ['exp', 'tomorrow'],
    ['iat', 'now'],
    ['aud', [AUDIENCE, 42]],
  ] as const) {
    test(`a token whose "${claim}" has the wrong type is invalid_token`, async () => {
      await assertRefused(verifier.verify(await issuer.sign({ [claim]: value })), 'invalid_token', 401)
    })
  }

  test('another issuer, another audience, expiry and nbf are invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000)
    for (const claims of [
      { iss: 'https://evil.example.com' },
      { iss: `${issuer.issuer}/` },
      { aud: 'https://api.example.com/other' },
      { aud: [] },
      { exp: now - 10, iat: now - 310 },
      { nbf: now + 60 },
    ]) {
      await assertRefused(verifier.verify(await issuer.sign(claims)), 'invalid_token', 401)
    }
  })

  test('clockTolerance: 5 s by default, on exp', async () => {
    const now = Math.floor(Date.now() / 1000)
    await verifier.verify(await issuer.sign({ exp: now - 3, iat: now - 300 }))
    await assertRefused(verifier.verify(await issuer.sign({ exp: now - 8 })), 'invalid_token', 401)
    await make({ clockTolerance: 30 }).verify(await issuer.sign({ exp: now - 8 }))
  })

  test('an injected clock decides expiry', async () => {
    const token = await issuer.sign()
    let at = Date.now()
    const clock: Clock = { now: () => at }
    const timed = make({ clock })
    await timed.verify(token)
    at += 3600_000
    const error = await assertRefused(timed.verify(token), 'invalid_token', 401)
    assert.match(error.description, /expired/)
  })

  test('audience may list several APIs; the token must name one of them', async () => {
    const either = make({ audience: ['https://api.example.com/other', AUDIENCE] })
    await either.verify(await issuer.sign())
    await assertRefused(
      make({ audience: ['https://a.example.com', 'https://b.example.com'] }).verify(await issuer.sign()),
      'invalid_token',
      401,
    )
  })

  test('typ: at+jwt in any spelling; JWT only when allowed; none or another refused', async () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT']) {
      await verifier.verify(await issuer.sign({}, { typ }))
    }
    for (const typ of ['JWT', 'jwt', undefined, 'dpop+jwt', 'application/jwt', 42, ['at+jwt']]) {
      const error = await assertRefused(verifier.verify(await issuer.sign({}, { typ })), 'invalid_token', 401)
      assert.match(error.description, /typ/)
    }
    const lenient = make({ typ: ['at+jwt', 'JWT'] })
    for (const typ of ['JWT', 'application/jwt', 'at+jwt'])
      await lenient.verify(await issuer.sign({}, { typ }))
    await assertRefused(lenient.verify(await issuer.sign({}, { typ: undefined })), 'invalid_token', 401)
  })

  test('alg none and HS256 keyed with the public key are refused', async () => {
    const claims = JSON.parse(Buffer.from((await issuer.sign()).split('.')[1]!, 'base64url').toString())
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`
    await assertRefused(verifier.verify(none), 'invalid_token', 401)
    // The classic confusion: the public key (as the JWKS publishes it) used as an HMAC secret.
    for (const secret of [JSON.stringify(issuer.current.jwk), issuer.current.jwk.x ?? '']) {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: issuer.current.kid })}.${b64(claims)}`
      const mac = createHmac('sha256', secret).update(input).digest('base64url')
      const error = await assertRefused(verifier.verify(`${input}.${mac}`), 'invalid_token', 401)
      assert.match(error.description, /algorithm/)
    }
  })

  test('an algorithm outside `algorithms` is refused even with a published key', async () => {
    await assertRefused(make({ algorithms: ['RS256'] }).verify(await issuer.sign()), 'invalid_token', 401)
  })

  test('a tampered payload or signature, or garbage, is invalid_token', async () => {
    const [header, payload, signature] = (await issuer.sign()).split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const forged = `${header}.${b64({ ...claims, scope: 'prices.admin' })}.${signature}`
    const flipped = `${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`
    for (const token of [
      forged,
      flipped,
      'abc',
      'a.b.c',
      `${header}.${payload}`,
      '',
      `${header}..${signature}`,
    ]) {
      await assertRefused(verifier.verify(token), 'invalid_token', 401)
    }
  })

  test('a valid token spelled another way (whitespace, padding) is invalid_token: a token has one spelling', async () => {
    const token = await issuer.sign()
    assert.equal((await verifier.verify(token)).sub, 'client-1')
    // jose alone verifies each of these as the same token: its atob skips whitespace and takes padding.
    for (const spelling of [
      `${token}\n`,
      `${token}==`,
      `${token} `,
      `${token.slice(0, -4)}\t${token.slice(-4)}`,
    ]) {
      await assertRefused(verifier.verify(spelling), 'invalid_token', 401)
    }
  })

  test('a kid the issuer does not publish is invalid_token', async () => {
    await assertRefused(verifier.verify(await issuer.sign({}, { kid: 'unknown' })), 'invalid_token', 401)
  })

  test('scopes: the call requires all it names; requiredScopes add to it; 403 names them', async () => {
    const token = await issuer.sign({ scope: 'prices.read prices.write' })
    await verifier.verify(token, { scope: 'prices.read' })
    await verifier.verify(token, { scope: ['prices.read', 'prices.write'] })
    await verifier.verify(token, { scope: 'prices.read prices.write' })
    const error = await assertRefused(
      verifier.verify(token, { scope: 'prices.read prices.admin' }),
      'insufficient_scope',
      403,
    )
    assert.equal(error.scope, 'prices.read prices.admin')
    assert.match(error.wwwAuthenticate('prices') ?? '', /scope="prices.read prices.admin"/)

    const strict = make({ requiredScopes: 'prices.admin' })
    await assertRefused(strict.verify(token), 'insufficient_scope', 403)
    const both = await assertRefused(
      strict.verify(token, { scope: 'prices.read' }),
      'insufficient_scope',
      403,
    )
    assert.equal(both.scope, 'prices.admin prices.read')
    await make({ requiredScopes: ['prices.write'] }).verify(token, { scope: 'prices.read' })
  })

  test('a prefix of a scope is not the scope', async () => {
    const token = await issuer.sign({ scope: 'prices.readonly' })
    await assertRefused(verifier.verify(token, { scope: 'prices.read' }), 'insufficient_scope', 403)
  })

  test('authenticate parses the Authorization header first', async () => {
    const token = await issuer.sign()
    assert.equal((await verifier.authenticate(`Bearer ${token}`)).sub, 'client-1')
    await assertRefused(verifier.authenticate(undefined), 'missing_token', 401)
    await assertRefused(verifier.authenticate(`Bearer ${token} x`), 'invalid_request', 400)
  })

  test('an error never carries the token', async () => {
    const token = await issuer.sign({ aud: 'https://other.example.com' })
    const error = await refusal(verifier.verify(token))
    const signature = token.split('.')[2]!
    for (const text of [
      inspect(error, { depth: 10 }),
      JSON.stringify(error),
      error.wwwAuthenticate('x') ?? '',
    ]) {
      assert.equal(text.includes(signature), false)
      assert.equal(text.includes(token.split('.')[1]!), false)
    }
  })
})

describe('createVerifier refuses unsafe or incomplete options at once', () => {
  const base = { issuer: 'https://auth.example.com', audience: AUDIENCE }
  for (const [name, options] of [
    ['alg none', { ...base, algorithms: ['none'] }],
    ['HS256', { ...base, algorithms: ['RS256', 'HS256'] }],
    ['no algorithms', { ...base, algorithms: [] }],
    ['no audience', { ...base, audience: [] }],
    ['empty audience', { ...base, audience: '' }],
    ['missing audience', { issuer: base.issuer }],
    ['issuer not a URL', { ...base, issuer: 'auth' }],
    ['negative tolerance', { ...base, clockTolerance: -1 }],
    ['no typ', { ...base, typ: [] }],
  ] as const) {
    test(name, () => {
      assert.throws(() => createVerifier(options as unknown as VerifierOptions), TypeError)
    })
  }

  test('creating one fetches nothing', async () => {
    const issuer = await startIssuer()
    try {
      createVerifier({ issuer: issuer.issuer, audience: AUDIENCE })
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(issuer.hits.size, 0)
    } finally {
      await issuer.stop()
    }
  })
})
