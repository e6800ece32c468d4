/*
 * Seed 002 (FedEx): `POST /oauth/token` form with grant_type client_credentials,
 * csp_credentials or client_pc_credentials; the last two add child_key (or child_Key, child_id) and
 * child_secret. Answer {access_token, token_type: "bearer", expires_in: 3600, scope}.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  assertOAuthError,
  createChild,
  disableClient,
  FORM,
  formBody,
  JSON_TYPE,
  lifetime,
  NO_RATE_LIMIT,
  PATHS,
  send,
  verifyAccessToken,
  waitForChangeFeed,
} from './dialects-fixtures.ts'
import { basic, json, startTestServer, type TestServer } from './harness.ts'

const PATH = PATHS.oauth2
const CHILD_GRANTS = ['csp_credentials', 'client_pc_credentials'] as const

describe('seed 002: parent/child grants at POST /oauth/token', () => {
  let server: TestServer
  /** The seed's project: client id `Your_client_ID`, secret `Your_secret`, scope CXS. */
  let parent: { id: string; secret: string }
  let child: { childKey: string; childSecret: string }
  /** Another parent, with its own child. */
  let stranger: { id: string; secret: string }
  let strangersChild: { childKey: string; childSecret: string }

  before(async () => {
    server = await startTestServer(NO_RATE_LIMIT)
    parent = await server.createClient({
      clientId: 'Your_client_ID',
      clientSecret: 'Your_secret',
      scopes: ['CXS'],
      grants: ['client_credentials', 'csp_credentials', 'client_pc_credentials'],
    })
    child = await createChild(server, parent.id, 'customer one')
    stranger = await server.createClient({
      scopes: ['CXS'],
      grants: ['csp_credentials', 'client_pc_credentials'],
    })
    strangersChild = await createChild(server, stranger.id, 'customer of another integrator')
  })
  after(() => server.stop())

  function childRequest(grant: string, overrides: Record<string, string | undefined> = {}): string {
    const fields: Record<string, string | undefined> = {
      grant_type: grant,
      client_id: parent.id,
      client_secret: parent.secret,
      child_key: child.childKey,
      child_secret: child.childSecret,
      ...overrides,
    }
    return formBody(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined))
  }

  async function assertSeedAnswer(res: Response) {
    const text = await res.text()
    assert.equal(res.status, 200, text)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const body = JSON.parse(text)
    // The seed shows access_token, token_type, expires_in, scope in that order.
    assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'scope'])
    assert.match(body.access_token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    assert.equal(body.token_type, 'bearer', 'lower-case "bearer" as in the seed')
    assert.equal(body.expires_in, 3600)
    assert.equal(Number.isInteger(body.expires_in), true)
    assert.equal(body.scope, 'CXS')
    return body
  }

  describe('the seed requests', () => {
    test('grant_type=client_credentials&client_id=…&client_secret=… gets the seed answer', async () => {
      const res = await send(
        server,
        PATH,
        'grant_type=client_credentials&client_id=Your_client_ID&client_secret=Your_secret',
        { contentType: 'application/x-www-form-urlencoded' },
      )
      const body = await assertSeedAnswer(res)
      const { payload } = await verifyAccessToken(server, body.access_token)
      assert.equal(payload.sub, 'Your_client_ID')
      assert.equal(payload.client_id, 'Your_client_ID')
      assert.equal(payload.act, undefined, 'no actor without a child')
      assert.equal(lifetime(payload), 3600)
    })

    for (const grant of CHILD_GRANTS) {
      test(`grant_type=${grant} with child_key and child_secret acts for the child`, async () => {
        const res = await send(server, PATH, childRequest(grant), { contentType: FORM })
        const body = await assertSeedAnswer(res)
        const { payload } = await verifyAccessToken(server, body.access_token)
        assert.equal(payload.sub, child.childKey)
        assert.deepEqual(payload.act, { sub: 'Your_client_ID' })
        assert.equal(payload.client_id, 'Your_client_ID')
        assert.equal(payload.scope, 'CXS')
        assert.equal(payload.iss, server.issuer)
        assert.equal(lifetime(payload), 3600)
      })

      for (const [name, source] of [
        ['child_Key', 'API reference'],
        ['child_id', 'prose'],
      ]) {
        test(`grant_type=${grant} with the ${source} spelling ${name}`, async () => {
          const body = formBody({
            grant_type: grant,
            client_id: parent.id,
            client_secret: parent.secret,
            [name!]: child.childKey,
            child_secret: child.childSecret,
          })
          const answer = await assertSeedAnswer(await send(server, PATH, body))
          assert.equal((await verifyAccessToken(server, answer.access_token)).payload.sub, child.childKey)
        })
      }

      test(`grant_type=${grant} with the parent in HTTP Basic`, async () => {
        const res = await send(
          server,
          PATH,
          formBody({ grant_type: grant, child_key: child.childKey, child_secret: child.childSecret }),
          { authorization: basic(parent.id, parent.secret) },
        )
        const body = await assertSeedAnswer(res)
        const { payload } = await verifyAccessToken(server, body.access_token)
        assert.equal(payload.sub, child.childKey)
        assert.deepEqual(payload.act, { sub: parent.id })
      })
    }
  })

  describe('errors (RFC 6749 §5.2)', () => {
    for (const grant of CHILD_GRANTS) {
      describe(grant, () => {
        test("another parent's child: 400 invalid_grant", async () => {
          const res = await send(
            server,
            PATH,
            childRequest(grant, {
              child_key: strangersChild.childKey,
              child_secret: strangersChild.childSecret,
            }),
          )
          await assertOAuthError(res, 400, 'invalid_grant')
        })

        test('wrong child secret: 400 invalid_grant', async () => {
          const res = await send(server, PATH, childRequest(grant, { child_secret: `${child.childSecret}x` }))
          await assertOAuthError(res, 400, 'invalid_grant')
        })

        test("the parent's own secret as the child secret: 400 invalid_grant", async () => {
          const res = await send(server, PATH, childRequest(grant, { child_secret: parent.secret }))
          await assertOAuthError(res, 400, 'invalid_grant')
        })

        test('unknown child: 400 invalid_grant', async () => {
          const res = await send(server, PATH, childRequest(grant, { child_key: 'no-such-child' }))
          await assertOAuthError(res, 400, 'invalid_grant')
        })

        test('missing child_key: 400 invalid_request', async () => {
          const res = await send(server, PATH, childRequest(grant, { child_key: undefined }))
          await assertOAuthError(res, 400, 'invalid_request')
        })

        test('missing child_secret: 400 invalid_request', async () => {
          const res = await send(server, PATH, childRequest(grant, { child_secret: undefined }))
          await assertOAuthError(res, 400, 'invalid_request')
        })

        for (const other of ['child_Key', 'child_id']) {
          test(`both child_key and ${other}: 400 invalid_request`, async () => {
            const res = await send(
              server,
              PATH,
              `${childRequest(grant)}&${other}=${encodeURIComponent(child.childKey)}`,
            )
            await assertOAuthError(res, 400, 'invalid_request')
          })
        }

        test('child_secret given twice: 400 invalid_request', async () => {
          const res = await send(
            server,
            PATH,
            `${childRequest(grant)}&child_secret=${encodeURIComponent(child.childSecret)}`,
          )
          await assertOAuthError(res, 400, 'invalid_request')
        })

        test('wrong parent secret with a good child: 401 invalid_client', async () => {
          const res = await send(server, PATH, childRequest(grant, { client_secret: 'not-the-secret' }))
          await assertOAuthError(res, 401, 'invalid_client')
        })

        test('wrong parent secret in Basic: 401 invalid_client with a Basic challenge', async () => {
          const res = await send(
            server,
            PATH,
            formBody({ grant_type: grant, child_key: child.childKey, child_secret: child.childSecret }),
            { authorization: basic(parent.id, 'not-the-secret') },
          )
          assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /)
          await assertOAuthError(res, 401, 'invalid_client')
        })

        test('unknown parent: 401 invalid_client', async () => {
          const res = await send(server, PATH, childRequest(grant, { client_id: 'no-such-parent' }))
          await assertOAuthError(res, 401, 'invalid_client')
        })

        test('a scope the parent does not have: 400 invalid_scope', async () => {
          const res = await send(server, PATH, childRequest(grant, { scope: 'SHIP' }))
          await assertOAuthError(res, 400, 'invalid_scope')
        })

        test('a client without this grant: 400 unauthorized_client', async () => {
          const plain = await server.createClient({ scopes: ['CXS'], grants: ['client_credentials'] })
          // The admin may refuse children for a client without a child grant, so the child
          // presented is a real one of another parent: the grant check must refuse first.
          const plainChild = child
          const res = await send(
            server,
            PATH,
            formBody({
              grant_type: grant,
              client_id: plain.id,
              client_secret: plain.secret,
              child_key: plainChild.childKey,
              child_secret: plainChild.childSecret,
            }),
          )
          await assertOAuthError(res, 400, 'unauthorized_client')
        })

        test('the fields as JSON: 400 invalid_request', async () => {
          const res = await send(
            server,
            PATH,
            JSON.stringify({
              grant_type: grant,
              client_id: parent.id,
              client_secret: parent.secret,
              child_key: child.childKey,
              child_secret: child.childSecret,
            }),
            { contentType: JSON_TYPE },
          )
          await assertOAuthError(res, 400, 'invalid_request')
        })
      })
    }

    test('a client allowed csp_credentials only may not use client_pc_credentials', async () => {
      const csp = await server.createClient({ scopes: ['CXS'], grants: ['csp_credentials'] })
      const kid = await createChild(server, csp.id)
      const fields = {
        client_id: csp.id,
        client_secret: csp.secret,
        child_key: kid.childKey,
        child_secret: kid.childSecret,
      }
      const ok = await send(server, PATH, formBody({ grant_type: 'csp_credentials', ...fields }))
      assert.equal(ok.status, 200)
      const res = await send(server, PATH, formBody({ grant_type: 'client_pc_credentials', ...fields }))
      await assertOAuthError(res, 400, 'unauthorized_client')
    })

    test('a disabled child: 400 invalid_grant', async () => {
      const kid = await createChild(server, parent.id, 'soon disabled')
      const req = childRequest('csp_credentials', { child_key: kid.childKey, child_secret: kid.childSecret })
      assert.equal((await send(server, PATH, req)).status, 200)
      await server.admin.children.setEnabled(kid.childKey, false)
      await waitForChangeFeed()
      await assertOAuthError(await send(server, PATH, req), 400, 'invalid_grant')
    })

    test("a disabled child's tokens introspect as inactive at once", async () => {
      const kid = await createChild(server, parent.id, 'introspected')
      const req = childRequest('csp_credentials', { child_key: kid.childKey, child_secret: kid.childSecret })
      const { access_token } = await json(await send(server, PATH, req))
      const introspect = async () =>
        json(
          await send(server, '/oauth/introspect', formBody({ token: access_token }), {
            authorization: basic(parent.id, parent.secret),
          }),
        )
      assert.equal((await introspect()).active, true)
      await server.admin.children.setEnabled(kid.childKey, false)
      assert.deepEqual(await introspect(), { active: false })
    })

    test('a disabled parent: its children stop working (401 invalid_client)', async () => {
      const doomed = await server.createClient({ scopes: ['CXS'], grants: ['csp_credentials'] })
      const kid = await createChild(server, doomed.id)
      const req = formBody({
        grant_type: 'csp_credentials',
        client_id: doomed.id,
        client_secret: doomed.secret,
        child_key: kid.childKey,
        child_secret: kid.childSecret,
      })
      assert.equal((await send(server, PATH, req)).status, 200)
      await disableClient(server, doomed.id)
      await assertOAuthError(await send(server, PATH, req), 401, 'invalid_client')
    })

    test('a wrong child secret and an unknown child get the same answer', async () => {
      const a = await send(server, PATH, childRequest('csp_credentials', { child_secret: 'nope-nope-nope' }))
      const b = await send(server, PATH, childRequest('csp_credentials', { child_key: 'no-such-child' }))
      assert.equal(a.status, b.status)
      assert.deepEqual(await json(a), await json(b))
    })

    test('the seed client_credentials request with a wrong secret: 401 invalid_client', async () => {
      const res = await send(
        server,
        PATH,
        'grant_type=client_credentials&client_id=Your_client_ID&client_secret=Not_your_secret',
      )
      await assertOAuthError(res, 401, 'invalid_client')
    })
  })
})
