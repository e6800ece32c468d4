import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** The server's Prometheus metrics, in a registry of its own so tests can run several servers. */
export class Metrics {
  readonly registry = new Registry()
  readonly tokenRequests: Counter<'endpoint' | 'grant_type' | 'outcome'>
  readonly tokenLatency: Histogram<'endpoint'>

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' })
    this.tokenRequests = new Counter({
      name: 'gatehouse_token_requests_total',
      help: 'Token requests by endpoint, grant type and outcome (success or the OAuth error code).',
      labelNames: ['endpoint', 'grant_type', 'outcome'],
      registers: [this.registry],
    })
    this.tokenLatency = new Histogram({
      name: 'gatehouse_token_request_duration_seconds',
      help: 'Time to answer a token request, by endpoint.',
      labelNames: ['endpoint'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    })
  }
}
