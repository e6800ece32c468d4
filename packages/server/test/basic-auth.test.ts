import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseBasicAuth } from '../src/http/basic-auth.ts'

const basic = (credentials: string) => Buffer.from(credentials).toString('base64')

test('Basic credentials are read, with the spaces and case RFC 7617 allows', () => {
  const expected = { clientId: 'client', secret: 's3cret' }
  assert.deepEqual(parseBasicAuth(`Basic ${basic('client:s3cret')}`), expected)
  assert.deepEqual(parseBasicAuth(`basic   ${basic('client:s3cret')}  `), expected)
  assert.deepEqual(parseBasicAuth(`BASIC ${basic('client:s3cret').replace(/=+$/, '')}`), expected)
  // RFC 6749 §2.3.1: both halves are form-urlencoded.
  assert.deepEqual(parseBasicAuth(`Basic ${basic('a%3Ab+c:x%25y')}`), { clientId: 'a:b c', secret: 'x%y' })
})

test('another scheme is not Basic credentials at all', () => {
  assert.equal(parseBasicAuth(undefined), undefined)
  assert.equal(parseBasicAuth('Bearer abc'), undefined)
  assert.equal(parseBasicAuth('Basicabc'), undefined)
})

test('a malformed Basic header is refused', () => {
  for (const header of [
    'Basic',
    'Basic    ',
    'Basic ===',
    `Basic\t${basic('client:secret')}`,
    `Basic ${basic('client:secret')}!`,
    `Basic ${basic('client:secret')}=x`,
    `Basic ${basic('client:sec')} ${basic('ret')}`,
    `Basic ${basic('no colon')}`,
    `Basic ${basic(':secret')}`,
    `Basic ${basic('client:%zz')}`,
  ]) {
    assert.throws(() => parseBasicAuth(header), /not a valid Basic credential/, header)
  }
})
