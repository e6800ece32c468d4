// The middleware in the frameworks it is for: bare node:http (connect-style) and fastify, over
// real sockets. Each answer is checked whole: status, challenge and body.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  type AuthenticatedRequest,
  bearerAuth,
  createVerifier,
  fastifyBearerAuth,
  type VerifiedToken,
  type Verifier,
} from '../src/index.ts'
import { AUDIENCE, startIssuer, type TestIssuer } from './issuer.ts'

declare module 'fastify' {
  interface FastifyRequest {
    auth?: VerifiedToken
  }
}

const REALM = 'prices'

interface Answer {
  status: number
  challenge: string | null
  body: Record<string, unknown>
}

async function call(url: string, authorization?: string): Promise<Answer> {
  const res = await fetch(url, { headers: authorization === undefined ? {} : { authorization } })
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    body: (await res.json()) as Record<string, unknown>,
  }
}

/** The refusals every framework must give the same way. */
function refusalScenarios(target: () => { url: string; issuer: TestIssuer }) {
  test('a valid token passes, and the handler sees the verified token', async () => {
    const { url, issuer } = target()
    const answer = await call(`${url}/prices`, `Bearer ${await issuer.sign()}`)
    assert.equal(answer.status, 200)
    assert.deepEqual(answer.body, { client: 'client-1', scopes: ['prices.read'] })
  })

  test('no Authorization header: 401, a challenge without error code (RFC 6750 §3.1)', async () => {
    const { url } = target()
    const answer = await call(`${url}/prices`)
    assert.deepEqual(answer, { status: 401, challenge: `Bearer realm="${REALM}"`, body: {} })
    assert.equal((await call(`${url}/prices`, 'Basic dXNlcjpwYXNz')).challenge, `Bearer realm="${REALM}"`)
  })

  test('a malformed Authorization header: 400 invalid_request', async () => {
    const { url } = target()
    for (const header of ['Bearer', 'Bearer a b', 'Bearer a"b']) {
      const answer = await call(`${url}/prices`, header)
      assert.equal(answer.status, 400, header)
      assert.equal(answer.body.error, 'invalid_request')
      assert.match(
        answer.challenge ?? '',
        /^Bearer realm="prices", error="invalid_request", error_description="/,
      )
    }
  })

  test('an invalid token: 401 invalid_token, with the reason', async () => {
    const { url, issuer } = target()
    const answer = await call(
      `${url}/prices`,
      `Bearer ${await issuer.sign({ aud: 'https://other.example.com' })}`,
    )
    assert.equal(answer.status, 401)
    assert.equal(answer.body.error, 'invalid_token')
    assert.equal(typeof answer.body.error_description, 'string')
    assert.match(
      answer.challenge ?? '',
      /^Bearer realm="prices", error="invalid_token", error_description="[^"]+"$/,
    )
  })

  test('a token without the route scope: 403 insufficient_scope, naming the scope', async () => {
    const { url, issuer } = target()
    const answer = await call(`${url}/admin`, `Bearer ${await issuer.sign()}`)
    assert.equal(answer.status, 403)
    assert.equal(answer.body.error, 'insufficient_scope')
    assert.match(answer.challenge ?? '', /error="insufficient_scope", .*scope="prices.admin"$/)
    const admin = await call(
      `${url}/admin`,
      `Bearer ${await issuer.sign({ scope: 'prices.read prices.admin' })}`,
    )
    assert.equal(admin.status, 200)
  })

  test('the issuer unreachable: 503 temporarily_unavailable, no challenge', async () => {
    const { url, issuer } = target()
    const token = await issuer.sign({}, { kid: 'not-yet-fetched' })
    issuer.mode = 'error'
    try {
      const answer = await call(`${url}/fresh`, `Bearer ${token}`)
      assert.equal(answer.status, 503)
      assert.equal(answer.body.error, 'temporarily_unavailable')
      assert.equal(answer.challenge, null)
    } finally {
      issuer.mode = 'up'
    }
  })
}

function verifiers(issuer: TestIssuer): { main: Verifier; fresh: Verifier } {
  const options = { issuer: issuer.issuer, audience: AUDIENCE, realm: REALM }
  // `fresh` has fetched nothing yet when the issuer goes down.
  return { main: createVerifier(options), fresh: createVerifier(options) }
}

describe('bearerAuth over bare node:http', () => {
  let issuer: TestIssuer
  let server: Server
  let url = ''
  before(async () => {
    issuer = await startIssuer()
    const { main, fresh } = verifiers(issuer)
    const routes = {
      '/prices': bearerAuth(main),
      '/admin': bearerAuth(main, { scope: 'prices.admin' }),
      '/fresh': bearerAuth(fresh),
    }
    server = createServer((req, res) => {
      const middleware = routes[req.url as keyof typeof routes]
      void middleware(req, res, (error) => {
        if (error) {
          res.writeHead(500).end()
          return
        }
        const { auth } = req as AuthenticatedRequest
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ client: auth.clientId, scopes: auth.scopes }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await issuer.stop()
  })
  refusalScenarios(() => ({ url, issuer }))
})

describe('fastifyBearerAuth on a fastify instance', () => {
  let issuer: TestIssuer
  let app: FastifyInstance
  let url = ''
  before(async () => {
    issuer = await startIssuer()
    const { main, fresh } = verifiers(issuer)
    app = Fastify()
    app.decorateRequest('auth', undefined)
    const handler = async (request: { auth?: VerifiedToken }) => ({
      client: request.auth?.clientId,
      scopes: request.auth?.scopes,
    })
    app.get('/prices', { onRequest: fastifyBearerAuth(main) }, handler)
    app.get('/admin', { preHandler: fastifyBearerAuth(main, { scope: ['prices.admin'] }) }, handler)
    app.register(async (scoped) => {
      scoped.addHook('onRequest', fastifyBearerAuth(fresh))
      scoped.get('/fresh', handler)
    })
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  after(async () => {
    await app.close()
    await issuer.stop()
  })
  refusalScenarios(() => ({ url, issuer }))
})
