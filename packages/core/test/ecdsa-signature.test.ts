import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { test } from 'node:test'
import { ecdsaDerToJose } from '../src/tokens/ecdsa-signature.ts'

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })

function der(r: Buffer, s: Buffer): Buffer {
  const integer = (value: Buffer) => Buffer.concat([Buffer.from([0x02, value.length]), value])
  const body = Buffer.concat([integer(r), integer(s)])
  return Buffer.concat([Buffer.from([0x30, body.length]), body])
}

test('P-256: node:crypto DER signatures convert to what its own ieee-p1363 verification accepts', () => {
  // Enough signatures that r or s is shorter than 32 bytes (1 in 128) or needs a sign byte (1 in 2).
  let short = 0
  for (let i = 0; i < 1500; i++) {
    const data = randomBytes(32)
    const signature = sign('sha256', data, privateKey)
    if (signature[3]! < 32 || signature[5 + signature[3]!]! < 32) short++
    const jose = ecdsaDerToJose(signature, 32)
    assert.equal(jose.length, 64)
    assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose), `signature ${i}`)
  }
  assert.ok(short > 0, 'no signature with a short r or s was drawn; the padding went untested')
})

test('leading sign bytes are dropped and short integers padded on the left', () => {
  const r = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(32, 0xff)])
  const s = Buffer.from([0x01, 0x02])
  const jose = ecdsaDerToJose(der(r, s), 32)
  assert.deepEqual(jose.subarray(0, 32), Buffer.alloc(32, 0xff))
  assert.deepEqual(jose.subarray(32), Buffer.concat([Buffer.alloc(30), s]))
})

test('anything but a DER ECDSA-Sig-Value of the curve size is refused', () => {
  const good = der(Buffer.alloc(32, 1), Buffer.alloc(32, 2))
  const cases: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    'not a sequence': Buffer.concat([Buffer.from([0x31]), good.subarray(1)]),
    'sequence length wrong': Buffer.concat([Buffer.from([0x30, good[1]! + 1]), good.subarray(2)]),
    truncated: good.subarray(0, good.length - 1),
    'trailing bytes': Buffer.concat([Buffer.from([0x30, good[1]! + 1]), good.subarray(2), Buffer.from([0])]),
    'integer too long': der(Buffer.alloc(34, 1), Buffer.alloc(32, 2)),
    'non-zero extra byte': der(
      Buffer.concat([Buffer.from([0x01]), Buffer.alloc(32, 1)]),
      Buffer.alloc(32, 2),
    ),
    'empty integer': der(Buffer.alloc(0), Buffer.alloc(32, 2)),
    'not an integer': Buffer.from(good).fill(0x04, 2, 3),
  }
  for (const [name, value] of Object.entries(cases)) {
    assert.throws(() => ecdsaDerToJose(value, 32), /not DER ECDSA-Sig-Value/, name)
  }
  assert.equal(ecdsaDerToJose(good, 32).length, 64)
})
