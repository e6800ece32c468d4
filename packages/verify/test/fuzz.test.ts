/*
 * Tokens mutated at random, for each algorithm: a character of a segment changed, added or
 * removed; segments cut, swapped or repeated; claims or headers rewritten without signing again
 * (another scope, audience or expiry; alg none, HS256, another kid, an embedded key); another
 * token's signature; a token signed by a key the issuer never published. Each must be refused
 * with a VerifyError, never another error, and `authenticate` must refuse the same in a header.
 * The one mutation that may pass is a signature that decodes to the same bytes (base64url's spare
 * low bits in its last character): the signing input is the encoded header and payload, so those
 * must be unchanged to the character. Seeded: FUZZ_SEED replays a failure, FUZZ_COUNT widens it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { fuzzSettings, pick, seededRandom } from '../../../test/seeded-random.ts'
import { createVerifier, type Verifier, VerifyError } from '../src/index.ts'
import { AUDIENCE, startIssuer, type TestAlg, type TestIssuer } from './issuer.ts'

const { seed: SEED, count: COUNT } = fuzzSettings({ seed: 0x0a7e_2026, count: 600 })
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))

interface Parts {
  header: string
  payload: string
  signature: string
}

/** What an attacker holds besides the token: another token of the same issuer, and a key of their own. */
interface Material {
  other: Parts
  forged: Parts
}

type Mutation = (parts: Parts, material: Material, next: () => number) => string

const join = ({ header, payload, signature }: Parts) => `${header}.${payload}.${signature}`

function changeCharacter(segment: string, next: () => number): string {
  if (segment.length === 0) return pick(next, [...B64URL])
  const at = Math.floor(next() * segment.length)
  const replacement = pick(next, [...B64URL, '=', '+', '/', '.', ' ', '\u00e9'])
  return `${segment.slice(0, at)}${replacement}${segment.slice(at + 1)}`
}

const SEGMENTS = ['header', 'payload', 'signature'] as const

const MUTATIONS: Mutation[] = [
  (parts, _, next) => {
    const name = pick(next, SEGMENTS)
    return join({ ...parts, [name]: changeCharacter(parts[name], next) })
  },
  (parts, _, next) => {
    const name = pick(next, SEGMENTS)
    const segment = parts[name]
    const at = Math.floor(next() * (segment.length + 1))
    return join({ ...parts, [name]: `${segment.slice(0, at)}${pick(next, [...B64URL])}${segment.slice(at)}` })
  },
  (parts, _, next) => {
    const name = pick(next, SEGMENTS)
    const at = Math.floor(next() * parts[name].length)
    return join({ ...parts, [name]: parts[name].slice(0, at) + parts[name].slice(at + 1) })
  },
  (parts, _, next) =>
    pick(next, [
      `${parts.header}.${parts.payload}`,
      `${parts.payload}.${parts.header}.${parts.signature}`,
      `${parts.header}.${parts.payload}.${parts.signature}.${parts.signature}`,
      `${parts.header}..${parts.signature}`,
      `.${parts.payload}.${parts.signature}`,
      `${parts.header}.${parts.payload}.`,
      `${join(parts)}=`,
      ` ${join(parts)}`,
      `${join(parts)}\n`,
      join(parts).replaceAll('.', '..'),
      join(parts).repeat(2),
      `${join(parts)}${'A'.repeat(100_000)}`,
    ]),
  // Claims rewritten, not signed again.
  (parts, _, next) => {
    const claims = decode(parts.payload)
    const now = Math.floor(Date.now() / 1000)
    const edit = pick(next, [
      { scope: 'prices.read prices.admin' },
      { aud: 'https://other.example.com' },
      { exp: now + 10 * 365 * 86400 },
      { sub: 'client-2', client_id: 'client-2' },
      { iss: 'https://evil.example.com' },
      { jti: 'x' },
    ])
    return join({ ...parts, payload: encode({ ...claims, ...edit }) })
  },
  // Headers rewritten, not signed again.
  (parts, material, next) => {
    const header = decode(parts.header)
    const edit = pick(next, [
      { alg: 'none' },
      { alg: 'HS256' },
      { alg: header.alg === 'RS256' ? 'PS256' : 'RS256' },
      { alg: header.alg === 'ES256' ? 'ES384' : 'ES256' },
      { kid: decode(material.forged.header).kid },
      { kid: undefined },
      { typ: 'JWT' },
      { crit: ['exp'] },
      { b64: false, crit: ['b64'] },
      { jku: 'https://evil.example.com/jwks.json' },
    ])
    return join({ ...parts, header: encode({ ...header, ...edit }) })
  },
  (parts, _, next) => join({ ...parts, signature: pick(next, ['', 'AAAA', parts.signature.slice(0, 8)]) }),
  (parts, material) => join({ ...parts, signature: material.other.signature }),
  (parts, material, next) => join({ ...material.other, [pick(next, SEGMENTS)]: parts.signature }),
  // Signed, but by a key the issuer never published (named in the header, or embedded in it).
  (_, material) => join(material.forged),
  (parts, material) => join({ ...material.forged, header: parts.header }),
]

/** A token passes only if it is the signed one: same header and payload, a signature of the same bytes. */
function isOriginal(token: string, original: Parts): boolean {
  const [header, payload, signature, extra] = token.split('.')
  return (
    extra === undefined &&
    header === original.header &&
    payload === original.payload &&
    signature !== undefined &&
    /^[\w-]*$/.test(signature) &&
    Buffer.from(signature, 'base64url').equals(Buffer.from(original.signature, 'base64url'))
  )
}

/** Both ends of a token, where mutations show: a whole RS256 token is too long to read in a failure. */
function shorten(token: string): string {
  return JSON.stringify(token.length > 240 ? `${token.slice(0, 120)}…${token.slice(-120)}` : token)
}

function split(token: string): Parts {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  return { header, payload, signature }
}

for (const alg of ['RS256', 'ES256', 'EdDSA'] as TestAlg[]) {
  describe(`verify: mutated ${alg} tokens (seed ${SEED})`, () => {
    let issuer: TestIssuer
    let verifier: Verifier

    before(async () => {
      issuer = await startIssuer({ alg })
      verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri })
    })
    after(() => issuer.stop())

    test(`${COUNT} mutations: each refused with a VerifyError unless it is the signed token`, async () => {
      const next = seededRandom(SEED)
      const original = split(await issuer.sign())
      const attacker = await generateKeyPair(alg, { extractable: true })
      const jwk = await exportJWK(attacker.publicKey)
      const material: Material = {
        other: split(await issuer.sign({ scope: 'prices.read prices.admin' })),
        forged: split(
          await new SignJWT({ ...decode(original.payload) })
            .setProtectedHeader({ alg, typ: 'at+jwt', kid: 'attacker', jwk })
            .sign(attacker.privateKey),
        ),
      }
      assert.equal((await verifier.verify(join(original))).sub, 'client-1')

      const failures: string[] = []
      let passedAsOriginal = 0
      for (let index = 0; index < COUNT && failures.length < 5; index++) {
        const token = pick(next, MUTATIONS)(original, material, next)
        // In a header, spaces before the token are part of `Bearer 1*SP` (RFC 6750 §2.1), not of the token.
        for (const [how, attempt, signed] of [
          ['verify', () => verifier.verify(token), isOriginal(token, original)],
          [
            'authenticate',
            () => verifier.authenticate(`Bearer ${token}`),
            isOriginal(token.trimStart(), original),
          ],
        ] as const) {
          const outcome = await attempt().then(
            () => 'accepted',
            (error: unknown) => (error instanceof VerifyError ? error.code : `threw ${String(error)}`),
          )
          const fine = signed
            ? outcome === 'accepted'
            : ['invalid_token', 'invalid_request'].includes(outcome)
          if (!fine) failures.push(`#${index} ${how}: ${outcome} for ${shorten(token)}`)
          if (signed && how === 'verify') passedAsOriginal++
        }
      }
      assert.deepEqual(failures, [], `seed ${SEED} (FUZZ_SEED=${SEED} replays it)`)
      // Most mutations change the token; if nearly all came out as the original, the generator is broken.
      assert.ok(
        passedAsOriginal < COUNT / 10,
        `${passedAsOriginal} of ${COUNT} mutations left the token as signed`,
      )
    })
  })
}
