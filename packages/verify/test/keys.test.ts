// Where the keys come from, and what happens when they cannot be had: discovery, refetch on an
// unknown kid, background refresh, and an issuer that is down (503, never blamed on the token).
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createVerifier, VerifyError } from '../src/index.ts'
import { AUDIENCE, startIssuer, type TestIssuer } from './issuer.ts'

const METADATA = '/.well-known/oauth-authorization-server'
const JWKS = '/.well-known/jwks.json'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits for a background fetch to have happened (a loaded machine may take a while). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 10) {
    if (waited > 3000) assert.fail(`timed out waiting until ${what}`)
    await sleep(10)
  }
}

/** A verifier that refreshes its keys in the background every 200 ms, and refetches at most every 100 ms. */
function refreshingEvery200ms(issuer: TestIssuer) {
  return createVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    jwksUri: issuer.jwksUri,
    jwksCacheMaxAge: 0.2,
    jwksCooldown: 0.1,
  })
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'accepted'
  } catch (error) {
    if (error instanceof VerifyError) return error.code
    throw error
  }
}

test('without jwksUri the keys are found through RFC 8414 metadata, once, on first use', async () => {
  const issuer = await startIssuer({ jwksPath: '/keys/elsewhere' })
  try {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE })
    const tokens = await Promise.all(Array.from({ length: 20 }, () => issuer.sign()))
    await Promise.all(tokens.map((t) => verifier.verify(t)))
    await verifier.verify(await issuer.sign())
    assert.equal(issuer.hits.get(METADATA), 1, 'concurrent first requests share one discovery')
    assert.equal(issuer.hits.get('/keys/elsewhere'), 1, 'and one JWKS fetch')
  } finally {
    await issuer.stop()
  }
})

test('an issuer with a path: the well-known segment goes between host and path (RFC 8414 §3.1)', async () => {
  const issuer = await startIssuer({ path: '/tenant-a' })
  try {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE })
    await verifier.verify(await issuer.sign())
    assert.equal(issuer.hits.get(`${METADATA}/tenant-a`), 1)
  } finally {
    await issuer.stop()
  }
})

test('metadata for another issuer is refused (RFC 8414 §3.3): 503, and no key is trusted', async () => {
  const issuer = await startIssuer()
  try {
    issuer.metadata = { issuer: 'https://evil.example.com' }
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE })
    const token = await issuer.sign()
    assert.equal(await code(verifier.verify(token)), 'temporarily_unavailable')
    assert.equal(issuer.hits.get(JWKS), undefined)
    issuer.metadata = {}
    assert.equal(await code(verifier.verify(token)), 'accepted', 'retried at the next request')
  } finally {
    await issuer.stop()
  }
})

test('an issuer with no metadata at all: the JWKS at <issuer>/.well-known/jwks.json', async () => {
  const issuer = await startIssuer()
  try {
    issuer.mode = 'no-metadata'
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE })
    await verifier.verify(await issuer.sign())
    assert.equal(issuer.hits.get(JWKS), 1)
    assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1, 'OpenID discovery was tried too')
  } finally {
    await issuer.stop()
  }
})

test('an unknown kid fetches the keys again, at most once per cooldown (a `keys rotate --now`)', async () => {
  const issuer = await startIssuer()
  try {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      jwksUri: issuer.jwksUri,
      jwksCooldown: 0.5,
    })
    await verifier.verify(await issuer.sign())
    await issuer.rotate()
    const rotated = await issuer.sign()
    assert.equal(await code(verifier.verify(rotated)), 'invalid_token', 'within the cooldown: not fetched')
    assert.equal(issuer.hits.get(JWKS), 1)
    await sleep(550)
    assert.equal(await code(verifier.verify(rotated)), 'accepted')
    assert.equal(issuer.hits.get(JWKS), 2)
    assert.equal(await code(verifier.verify(await issuer.sign({}, { kid: 'made-up' }))), 'invalid_token')
    assert.equal(issuer.hits.get(JWKS), 2, 'a made-up kid right after a fetch costs no request')
  } finally {
    await issuer.stop()
  }
})

test('a key the issuer withdraws stops verifying once the set without it is fetched, on an unknown kid or in the background', async () => {
  const issuer = await startIssuer()
  try {
    const onUnknownKid = createVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      jwksUri: issuer.jwksUri,
      jwksCooldown: 0.1,
    })
    const inBackground = refreshingEvery200ms(issuer)
    const old = await issuer.sign()
    // Twice each: the second is answered with the key the first was given.
    for (const verifier of [onUnknownKid, inBackground]) {
      assert.equal(await code(verifier.verify(old)), 'accepted')
      assert.equal(await code(verifier.verify(old)), 'accepted')
    }
    const withdrawn = issuer.current.kid
    await issuer.rotate()
    issuer.withdraw(withdrawn)
    await sleep(150)

    assert.equal(
      await code(onUnknownKid.verify(await issuer.sign())),
      'accepted',
      'the new kid fetched the set',
    )
    assert.equal(await code(onUnknownKid.verify(old)), 'invalid_token')

    await sleep(100)
    const fetches = issuer.hits.get(JWKS) ?? 0
    assert.equal(await code(inBackground.verify(old)), 'accepted', 'the refresh runs behind this request')
    await until(() => issuer.hits.get(JWKS) === fetches + 1, 'the stale set is fetched again')
    // The answer reaches jose a moment after the issuer counts the request.
    await until(
      async () => (await code(inBackground.verify(old))) === 'invalid_token',
      'the withdrawn key is refused',
    )
  } finally {
    await issuer.stop()
  }
})

test('a key replaced under the same kid: once the new set is fetched, the old key is not answered from memory', async () => {
  const issuer = await startIssuer({ alg: 'RS256' })
  try {
    const verifier = refreshingEvery200ms(issuer)
    const old = await issuer.sign()
    assert.equal(await code(verifier.verify(old)), 'accepted')
    assert.equal(await code(verifier.verify(old)), 'accepted')

    const { kid } = issuer.current
    issuer.withdraw(kid)
    const next = await issuer.rotate()
    next.kid = kid
    next.jwk.kid = kid
    const fresh = await issuer.sign()
    await sleep(250)
    const fetches = issuer.hits.get(JWKS) ?? 0
    await code(verifier.verify(old))
    await until(() => issuer.hits.get(JWKS) === fetches + 1, 'the stale set is fetched again')
    await until(async () => (await code(verifier.verify(fresh))) === 'accepted', 'the new key verifies')
    assert.equal(await code(verifier.verify(old)), 'invalid_token')
    assert.equal(await code(verifier.verify(fresh)), 'accepted')
  } finally {
    await issuer.stop()
  }
})

test('the issuer down before any key was fetched: 503 temporarily_unavailable, then recovery', async () => {
  const issuer = await startIssuer()
  try {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE })
    const token = await issuer.sign()
    issuer.mode = 'error'
    const error = await verifier.verify(token).catch((e: unknown) => e)
    assert.ok(error instanceof VerifyError)
    assert.equal(error.code, 'temporarily_unavailable')
    assert.equal(error.status, 503)
    assert.equal(error.wwwAuthenticate('x'), undefined)
    assert.ok(error.cause, 'the cause is kept for the log')
    issuer.mode = 'up'
    assert.equal(await code(verifier.verify(token)), 'accepted')
    // Discovery worked, then the JWKS fails.
    const second = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri })
    issuer.mode = 'error'
    assert.equal(await code(second.verify(token)), 'temporarily_unavailable')
  } finally {
    await issuer.stop()
  }
})

test('no answer at all (connection refused) is 503 too, and prefetch says so', async () => {
  const issuer = await startIssuer()
  const token = await issuer.sign()
  await issuer.stop()
  const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, timeout: 1 })
  assert.equal(await code(verifier.verify(token)), 'temporarily_unavailable')
  assert.equal(await code(verifier.prefetch()), 'temporarily_unavailable')
})

test('after jwksCacheMaxAge the keys are refreshed in the background; with the issuer down the cached ones still serve', async () => {
  const issuer = await startIssuer()
  try {
    const verifier = refreshingEvery200ms(issuer)
    await verifier.prefetch()
    assert.equal(issuer.hits.get(JWKS), 1)
    const token = await issuer.sign()
    await sleep(250)
    await verifier.verify(token)
    await until(() => issuer.hits.get(JWKS) === 2, 'stale keys trigger a refresh')
    await verifier.verify(token)
    assert.equal(issuer.hits.get(JWKS), 2, 'one refresh, not one per request')
    issuer.mode = 'error'
    await sleep(250)
    assert.equal(await code(verifier.verify(token)), 'accepted', 'the refresh fails, the request does not')
    await until(() => issuer.hits.get(JWKS) === 3, 'the failing refresh was tried')
    // A key published since is picked up once the issuer is back.
    issuer.mode = 'up'
    await issuer.rotate()
    await sleep(150)
    assert.equal(await code(verifier.verify(await issuer.sign())), 'accepted')
  } finally {
    await issuer.stop()
  }
})

test('the injected fetch carries every request', async () => {
  const issuer = await startIssuer()
  try {
    const seen: string[] = []
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      fetch: (url, init) => {
        seen.push(new URL(url).pathname)
        return fetch(url, init)
      },
    })
    await verifier.verify(await issuer.sign())
    assert.deepEqual(seen, [METADATA, JWKS])
  } finally {
    await issuer.stop()
  }
})

test('an issuer key jose will not use (RSA under 2048 bits) is a fault of the issuer: 503, not a crash', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' }] }
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(jwks))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const now = Math.floor(Date.now() / 1000)
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const input = `${part({ alg: 'RS256', typ: 'at+jwt', kid: 'weak' })}.${part({
      iss: base,
      sub: 'c',
      aud: AUDIENCE,
      exp: now + 300,
      iat: now,
      jti: 'j',
      client_id: 'c',
    })}`
    const token = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
    const verifier = createVerifier({
      issuer: base,
      audience: AUDIENCE,
      jwksUri: `${base}/jwks`,
      algorithms: ['RS256'],
    })
    assert.equal(await code(verifier.verify(token)), 'temporarily_unavailable')
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

test('an endless or oversized metadata document or key set is cut off at 256 KiB: 503, not memory held until the timeout', async () => {
  const issuer = await startIssuer()
  const limit = 256 * 1024
  // What answers in front of the issuer: `endless` streams whitespace (valid JSON so far) until
  // the reader hangs up; `padded` sends the real document behind `padding` bytes of it.
  let endless: string | undefined
  let padding = 0
  let sent = 0
  const front = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === endless) {
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      res.writeHead(200, { 'content-type': 'application/json' })
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length
      }
      res.on('drain', pump)
      pump()
      return
    }
    const real = await fetch(`${issuer.issuer}${path}`)
    const body = (await real.text()).replaceAll(issuer.issuer, base)
    const padded = ' '.repeat(padding) + body
    res.writeHead(real.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(padded),
    })
    res.end(padded)
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`
  const cause = (error: unknown) => {
    assert.ok(error instanceof VerifyError)
    assert.equal(error.code, 'temporarily_unavailable')
    let inner: unknown = error
    while (inner instanceof Error && inner.name !== 'DocumentTooLarge') inner = inner.cause
    return inner instanceof Error ? inner.message : `no DocumentTooLarge in ${String(error.cause)}`
  }
  try {
    const token = await issuer.sign({ iss: base })
    // Without the cut-off these would wait out the 20 s timeout with the answer piling up.
    for (const path of [METADATA, JWKS]) {
      endless = path
      sent = 0
      const verifier = createVerifier({ issuer: base, audience: AUDIENCE, timeout: 20 })
      const error = await verifier.verify(token).catch((e: unknown) => e)
      assert.match(cause(error), /answered more than 262144 bytes/, path)
      await until(() => sent < 4 * limit, `the ${path} stream stopped`)
    }
    // Declared too large: refused before its body is read.
    endless = undefined
    padding = limit
    const declared = createVerifier({ issuer: base, audience: AUDIENCE })
    assert.match(cause(await declared.verify(token).catch((e: unknown) => e)), /more than/)
    // Up to the limit is read: the metadata and the key set, each padded to just under it.
    padding = limit - 4096
    const verifier = createVerifier({ issuer: base, audience: AUDIENCE })
    assert.equal(await code(verifier.verify(token)), 'accepted')
  } finally {
    front.closeAllConnections()
    await new Promise((resolve) => front.close(resolve))
    await issuer.stop()
  }
})
