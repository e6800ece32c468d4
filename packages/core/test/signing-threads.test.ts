import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { generateKeyPairSync, type KeyObject, randomBytes, verify } from 'node:crypto'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CryptoSignatures } from '../src/keys/crypto-signatures.ts'
import { SignatureRouter } from '../src/keys/signature-router.ts'
import { SigningThreads } from '../src/keys/signing-threads.ts'
import type { SigningAlgorithm } from '../src/model.ts'

const ALGS: SigningAlgorithm[] = ['RS256', 'ES256', 'EdDSA']

function keyPair(alg: SigningAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 })
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return generateKeyPairSync('ed25519')
}

function verifies(alg: SigningAlgorithm, publicKey: KeyObject, input: string, signature: string): boolean {
  // node:crypto's own JWS-form verification, independent of the signer's DER conversion.
  const key = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey
  return verify(
    alg === 'EdDSA' ? null : 'sha256',
    Buffer.from(input),
    key,
    Buffer.from(signature, 'base64url'),
  )
}

function inputs(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `header.${randomBytes(24).toString('base64url')}${i}`)
}

function threads(count: number, errors: unknown[] = []): SigningThreads {
  return new SigningThreads({ threads: count, onError: (error) => errors.push(error) })
}

for (const alg of ALGS) {
  test(`${alg}: every signature of a concurrent burst verifies against its own input`, async (t) => {
    const { privateKey, publicKey } = keyPair(alg)
    const pool = threads(2)
    t.after(() => pool.close())
    pool.load('k1', alg, privateKey)
    const burst = inputs(alg === 'RS256' ? 40 : 200)
    const signatures = await Promise.all(burst.map((input) => pool.sign('k1', input)))
    for (const [i, input] of burst.entries()) {
      assert.ok(verifies(alg, publicKey, input, signatures[i]!), `signature ${i} does not verify`)
    }
    // Any two answers swapped would fail above; distinct inputs also give distinct signatures.
    assert.equal(new Set(signatures).size, burst.length)
  })
}

test('deterministic algorithms sign byte for byte as node:crypto does in process', async (t) => {
  for (const alg of ['RS256', 'EdDSA'] as const) {
    const { privateKey } = keyPair(alg)
    const pool = threads(1)
    const local = new CryptoSignatures()
    t.after(() => pool.close())
    pool.load('k', alg, privateKey)
    local.load('k', alg, privateKey)
    const [input] = inputs(1)
    assert.equal(await pool.sign('k', input!), await local.sign('k', input!), alg)
  }
})

test('several keys at once, each input signed with the key it names', async (t) => {
  const ed = keyPair('EdDSA')
  const es = keyPair('ES256')
  const pool = threads(2)
  t.after(() => pool.close())
  pool.load('ed', 'EdDSA', ed.privateKey)
  pool.load('es', 'ES256', es.privateKey)
  const mixed = inputs(60).map((input, i) => ({ input, kid: i % 2 === 0 ? 'ed' : 'es' }))
  const signatures = await Promise.all(mixed.map(({ kid, input }) => pool.sign(kid, input)))
  for (const [i, { kid, input }] of mixed.entries()) {
    const pair = kid === 'ed' ? ed : es
    assert.ok(verifies(kid === 'ed' ? 'EdDSA' : 'ES256', pair.publicKey, input, signatures[i]!))
  }
})

test('an unknown or unloaded kid is refused, and the rest of the batch is still signed', async (t) => {
  const { privateKey, publicKey } = keyPair('EdDSA')
  const pool = threads(1)
  t.after(() => pool.close())
  pool.load('k', 'EdDSA', privateKey)
  const [a, b] = inputs(2)
  const results = await Promise.allSettled([pool.sign('nope', a!), pool.sign('k', b!)])
  assert.equal(results[0].status, 'rejected')
  assert.match(String((results[0] as PromiseRejectedResult).reason), /not loaded/)
  assert.equal(results[1].status, 'fulfilled')
  assert.ok(verifies('EdDSA', publicKey, b!, (results[1] as PromiseFulfilledResult<string>).value))
  pool.unload('k')
  await assert.rejects(pool.sign('k', b!), /not loaded/)
})

test('a thread that dies mid-batch loses no signature: what it owed is signed in process, and it is replaced', async (t) => {
  const { privateKey, publicKey } = keyPair('ES256')
  const errors: unknown[] = []
  const pool = threads(2, errors)
  t.after(() => pool.close())
  pool.load('k', 'ES256', privateKey)
  // Old enough to be replaced rather than dropped.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const burst = inputs(400)
  const pending = burst.map((input) => pool.sign('k', input))
  // Kill one thread once its share has been sent.
  await new Promise((resolve) => setImmediate(resolve))
  const victim = (
    pool as unknown as { threads: { backlog: number; worker: { terminate(): Promise<number> } }[] }
  ).threads[0]!
  assert.ok(victim.backlog > 0, 'the thread owed signatures when it died')
  await victim.worker.terminate()
  const signatures = await Promise.all(pending)
  for (const [i, input] of burst.entries()) assert.ok(verifies('ES256', publicKey, input, signatures[i]!))
  assert.equal(errors.length, 1, 'the loss is reported once')
  assert.equal(pool.size, 2, 'the thread was replaced')
  const [after] = inputs(1)
  assert.ok(verifies('ES256', publicKey, after!, await pool.sign('k', after!)), 'the new thread has the key')
})

test('after close, signing is refused', async () => {
  const { privateKey } = keyPair('EdDSA')
  const pool = threads(1)
  pool.load('k', 'EdDSA', privateKey)
  const [input] = inputs(1)
  await pool.sign('k', input!)
  await pool.close()
  await assert.rejects(pool.sign('k', input!), /closed/)
})

test('idle signing threads do not keep a process alive', async () => {
  const script = `
    import { generateKeyPairSync } from 'node:crypto'
    import { SigningThreads } from ${JSON.stringify(fileURLToPath(new URL('../src/keys/signing-threads.ts', import.meta.url)))}
    const pool = new SigningThreads({ threads: 2, onError: console.error })
    pool.load('k', 'EdDSA', generateKeyPairSync('ed25519').privateKey)
    console.log((await pool.sign('k', 'a.b')).length)
  `
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '--no-warnings', '-e', script],
    { timeout: 10_000 },
  )
  assert.equal(stdout.trim(), '86', 'the signature came back, then the process exited by itself')
})

test('the router signs RS256 on libuv and ES256 and EdDSA on signing threads, started only when needed', async (t) => {
  const router = new SignatureRouter({ threads: 2, onError: () => {} })
  t.after(() => router.close())
  const threadsOf = () => (router as unknown as { threads?: SigningThreads }).threads
  const rsa = keyPair('RS256')
  router.load('rsa', 'RS256', rsa.privateKey)
  assert.equal(threadsOf(), undefined, 'an RSA key starts no thread')
  const [a, b, c] = inputs(3)
  assert.ok(verifies('RS256', rsa.publicKey, a!, await router.sign('rsa', a!)))
  const ed = keyPair('EdDSA')
  const es = keyPair('ES256')
  router.load('ed', 'EdDSA', ed.privateKey)
  router.load('es', 'ES256', es.privateKey)
  assert.equal(threadsOf()?.size, 2)
  assert.ok(verifies('EdDSA', ed.publicKey, b!, await router.sign('ed', b!)))
  assert.ok(verifies('ES256', es.publicKey, c!, await router.sign('es', c!)))
  router.unload('ed')
  await assert.rejects(router.sign('ed', b!), /not loaded/)

  const none = new SignatureRouter({ threads: 0, onError: () => {} })
  t.after(() => none.close())
  none.load('ed', 'EdDSA', ed.privateKey)
  assert.equal(
    (none as unknown as { threads?: SigningThreads }).threads,
    undefined,
    'threads: 0 signs in process',
  )
  assert.ok(verifies('EdDSA', ed.publicKey, b!, await none.sign('ed', b!)))
})
