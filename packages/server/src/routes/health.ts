import type { Gatehouse, Store } from '@gatehouse/core'
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../metrics.ts'

/** Liveness, readiness (storage answers and a key can sign) and Prometheus metrics. */
export function mountHealth(
  app: FastifyInstance,
  deps: { store: Store; gatehouse: Gatehouse; metrics: Metrics },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (request, reply) => {
    try {
      await deps.store.ping()
    } catch (error) {
      request.log.warn({ err: error }, 'storage is not ready')
      return reply.code(503).send({ status: 'unavailable', reason: 'storage does not answer' })
    }
    if (!deps.gatehouse.keys.signer())
      return reply.code(503).send({ status: 'unavailable', reason: 'no active signing key' })
    // Keys it cannot load (sealed with another master key) leave it signing with keys that may
    // have been taken out of use: not an instance to send traffic to.
    if (deps.gatehouse.changes.failing.has('key'))
      return reply
        .code(503)
        .send({ status: 'unavailable', reason: 'the stored signing keys cannot be loaded' })
    return { status: 'ok' }
  })
  app.get('/metrics', async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType)
    return deps.metrics.registry.metrics()
  })
}
