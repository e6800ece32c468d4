import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bearerToken, VerifyError, type VerifyErrorCode } from '../src/index.ts'

function refusal(header: string | string[] | undefined): VerifyErrorCode {
  try {
    bearerToken(header)
  } catch (error) {
    assert.ok(error instanceof VerifyError)
    return error.code
  }
  assert.fail(`accepted ${JSON.stringify(header)}`)
}

test('bearerToken: RFC 6750 §2.1 credentials give their token; the scheme is case-insensitive', () => {
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
  assert.equal(bearerToken('bearer abc.def.ghi'), 'abc.def.ghi')
  assert.equal(bearerToken('BEARER  abc.def.ghi'), 'abc.def.ghi', '1*SP')
  assert.equal(bearerToken('Bearer aZ09-._~+/=='), 'aZ09-._~+/==', 'every b64token character, trailing =')
  assert.equal(bearerToken(['Bearer abc']), 'abc')
})

test('bearerToken: no credentials, or another scheme, is missing_token (401, no error code)', () => {
  for (const header of [undefined, '', [], 'Basic dXNlcjpwYXNz', 'Bearerabc', 'Token abc']) {
    assert.equal(refusal(header as string | undefined), 'missing_token', JSON.stringify(header))
  }
})

test('bearerToken: a malformed Bearer header is invalid_request (400)', () => {
  for (const header of [
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Bearer a,b',
    'Bearer "abc"',
    'Bearer abc=def',
    'Bearer\tabc',
    'Bearer abc\u00e9',
    ['Bearer a', 'Bearer b'],
  ]) {
    assert.equal(refusal(header), 'invalid_request', JSON.stringify(header))
  }
})

test('VerifyError renders RFC 6750 §3 challenges and bodies', () => {
  const missing = new VerifyError('missing_token', 'The request carries no bearer token.')
  assert.equal(missing.status, 401)
  assert.equal(missing.wwwAuthenticate('prices'), 'Bearer realm="prices"', 'no error code (§3.1)')
  assert.equal(missing.wwwAuthenticate(), 'Bearer')
  assert.deepEqual(missing.toJSON(), {})

  const invalid = new VerifyError('invalid_token', 'The access token expired.')
  assert.equal(invalid.status, 401)
  assert.equal(
    invalid.wwwAuthenticate('prices'),
    'Bearer realm="prices", error="invalid_token", error_description="The access token expired."',
  )
  assert.deepEqual(invalid.toJSON(), {
    error: 'invalid_token',
    error_description: 'The access token expired.',
  })

  const scope = new VerifyError('insufficient_scope', 'x', { scope: 'prices.read prices.write' })
  assert.equal(scope.status, 403)
  assert.equal(
    scope.wwwAuthenticate(),
    'Bearer error="insufficient_scope", error_description="x", scope="prices.read prices.write"',
  )

  assert.equal(new VerifyError('invalid_request', 'x').status, 400)
  const down = new VerifyError('temporarily_unavailable', 'x')
  assert.equal(down.status, 503)
  assert.equal(down.wwwAuthenticate('prices'), undefined, 'a 503 is not a challenge')
})

test('VerifyError keeps quoted-string parameters well-formed', () => {
  const error = new VerifyError('invalid_token', 'say "hi" \\ now\n')
  assert.equal(
    error.wwwAuthenticate('a"b'),
    'Bearer realm="ab", error="invalid_token", error_description="say hi  now"',
  )
})
