import assert from 'node:assert/strict'
import { test } from 'node:test'
import { json, startTestServer } from './harness.ts'

test('storage unavailable: 503 in each endpoint’s own format, and /readyz says so', async () => {
  const server = await startTestServer()
  try {
    await server.store.close()
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const answers = {
      oauth2: await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: form,
        body: 'grant_type=client_credentials&client_id=never-seen&client_secret=x',
      }),
      servicekey: await fetch(`${server.url}/connect/token`, {
        method: 'POST',
        headers: form,
        body: 'grant_type=servicekey&client_id=never-seen&serviceName=a&serviceKey=b',
      }),
      signature: await fetch(`${server.url}/api/TokenAuth/Authenticate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: 'never-seen', time: Date.now(), signature: 'A'.repeat(32) }),
      }),
      refreshable: await fetch(`${server.url}/amsu-analysis/v2/token`, {
        method: 'POST',
        headers: form,
        body: 'client_id=never-seen&client_secret=x',
      }),
    }
    for (const res of Object.values(answers)) {
      assert.equal(res.status, 503)
      assert.ok(Number(res.headers.get('retry-after')) > 0)
    }
    assert.equal((await json(answers.oauth2)).error, 'temporarily_unavailable')
    assert.equal((await json(answers.servicekey)).error, 'temporarily_unavailable')
    assert.deepEqual(await json(answers.signature), {
      code: 503,
      data: null,
      success: false,
      msg: 'The service is temporarily unavailable.',
    })
    assert.equal((await json(answers.refreshable)).error.code, 'COMMON.SERVICE_UNAVAILABLE')
    assert.equal((await fetch(`${server.url}/readyz`)).status, 503)
  } finally {
    await server.stop()
  }
})
