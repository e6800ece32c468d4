import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Template } from '../src/dialects/description.ts'
import { compile } from '../src/dialects/template.ts'

type Values = Record<string, unknown>

/** What the template means, spelled out: the object JSON.stringify would be given. */
function expand(template: Template, values: Values): unknown {
  if (typeof template === 'string' && template.startsWith('$')) return values[template.slice(1)]
  if (Array.isArray(template)) return template.map((item) => expand(item, values))
  if (template !== null && typeof template === 'object')
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, expand(value, values)]))
  return template
}

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2lnbmF0dXJl_-'

test('a compiled template writes the JSON that JSON.stringify writes of its values', () => {
  const templates: Template[] = [
    { access_token: '$access_token', token_type: 'bearer', expires_in: '$expires_in', scope: '$scope' },
    {
      code: 0,
      data: { token: '$access_token', expire: '$expires_in' },
      list: ['$scope', '$missing', 1, null],
    },
    { error: '$code', error_description: '$message', 'a "quoted" key': true },
    '$access_token',
    ['$missing'],
    { only: '$missing' },
    'literal "text"',
  ]
  const valueSets: Values[] = [
    { access_token: JWT, expires_in: 3600, scope: 'a b' },
    { access_token: JWT, expires_in: 3600 },
    { code: 'invalid_client', message: 'Say "no" to \\ and \n and \u2028 and \ud800.', status: 401 },
    {},
  ]
  for (const template of templates) {
    for (const verbatim of [new Set<string>(), new Set(['access_token', 'refresh_token'])]) {
      const render = compile(template, verbatim)
      for (const values of valueSets) {
        const expected = JSON.stringify(expand(template, values)) ?? 'null'
        assert.equal(render(values), expected, `${JSON.stringify(template)} with ${JSON.stringify(values)}`)
      }
    }
  }
})

test('a verbatim value is written as it is, and one that is not a string goes through JSON', () => {
  const render = compile({ token: '$access_token' }, new Set(['access_token']))
  assert.equal(render({ access_token: JWT }), `{"token":"${JWT}"}`)
  assert.equal(render({ access_token: 42 }), '{"token":42}')
  assert.equal(render({}), '{}')
})
