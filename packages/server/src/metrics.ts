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

  private readonly counters = new Map<string, { inc(): void }>()
  private readonly latencies = new Map<string, { observe(value: number): void }>()

  /** Counts one token request; the labelled series are looked up once, not per request. */
  recordToken(endpoint: string, grantType: string, outcome: string, seconds: number): void {
    const key = `${endpoint}\u0000${grantType}\u0000${outcome}`
    let counter = this.counters.get(key)
    if (!counter) {
      counter = this.tokenRequests.labels(endpoint, grantType, outcome)
      this.counters.set(key, counter)
    }
    counter.inc()
    let latency = this.latencies.get(endpoint)
    if (!latency) {
      latency = this.tokenLatency.labels(endpoint)
      this.latencies.set(endpoint, latency)
    }
    latency.observe(seconds)
  }
}
