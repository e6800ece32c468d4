import { collectDefaultMetrics, Registry } from 'prom-client'

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** The server's Prometheus metrics, in a registry of its own so tests can run several servers. */
export class Metrics {
  readonly registry = new Registry()
  readonly tokenRequests = new CounterMetric(
    'gatehouse_token_requests_total',
    'Token requests by endpoint, grant type and outcome (success or the OAuth error code).',
    ['endpoint', 'grant_type', 'outcome'],
  )
  readonly tokenLatency = new HistogramMetric(
    'gatehouse_token_request_duration_seconds',
    'Time to answer a token request, by endpoint.',
    ['endpoint'],
    LATENCY_BUCKETS,
  )

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' })
    this.registry.registerMetric(this.tokenRequests as never)
    this.registry.registerMetric(this.tokenLatency as never)
  }

  // By endpoint, grant type and outcome, each its own constant: a key joined from the three was
  // a new string to hash on every request.
  private readonly slots = new Map<string, Map<string, Map<string, Slot>>>()

  /** Counts one token request: one slot holds both series. */
  recordToken(endpoint: string, grantType: string, outcome: string, seconds: number): void {
    const slot =
      this.slots.get(endpoint)?.get(grantType)?.get(outcome) ?? this.addSlot(endpoint, grantType, outcome)
    slot.count.value++
    slot.latency.observe(seconds)
  }

  private addSlot(endpoint: string, grantType: string, outcome: string): Slot {
    const slot = {
      count: this.tokenRequests.series(endpoint, grantType, outcome),
      latency: this.tokenLatency.series(endpoint),
    }
    const byGrant = this.slots.get(endpoint) ?? new Map<string, Map<string, Slot>>()
    const byOutcome = byGrant.get(grantType) ?? new Map<string, Slot>()
    byOutcome.set(outcome, slot)
    byGrant.set(grantType, byOutcome)
    this.slots.set(endpoint, byGrant)
    return slot
  }
}

interface Slot {
  count: { value: number }
  latency: Histogram
}

/** What prom-client's registry reads of a metric at scrape time. */
interface Scraped {
  name: string
  help: string
  type: string
  aggregator: 'sum'
  values: { metricName?: string; labels: Record<string, string | number>; value: number }[]
}

/*
 * The token path's series are plain numbers found by one Map lookup per request: prom-client's
 * labelled children validate and hash their labels on every call, about a microsecond per
 * request on the hot path. The registry reads them at scrape time like its own metrics.
 */

abstract class LabelledMetric<S> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  protected readonly all = new Map<string, { labels: Record<string, string>; series: S }>()

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name
    this.help = help
    this.labelNames = labelNames
  }

  series(...values: string[]): S {
    const key = values.join('\u0000')
    let found = this.all.get(key)
    if (!found) {
      const labels: Record<string, string> = {}
      for (const [i, name] of this.labelNames.entries()) labels[name] = values[i] ?? ''
      found = { labels, series: this.create() }
      this.all.set(key, found)
    }
    return found.series
  }

  /** Zeroes every series in place: callers may hold on to them. */
  reset(): void {
    for (const { series } of this.all.values()) this.zero(series)
  }

  protected abstract create(): S
  protected abstract zero(series: S): void
}

export class CounterMetric extends LabelledMetric<{ value: number }> {
  readonly type = 'counter'

  inc(labels: Record<string, string>): void {
    this.series(...this.labelNames.map((name) => labels[name] ?? '')).value++
  }

  get(): Scraped {
    const values = [...this.all.values()].map(({ labels, series }) => ({ labels, value: series.value }))
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values }
  }

  protected create(): { value: number } {
    return { value: 0 }
  }

  protected zero(series: { value: number }): void {
    series.value = 0
  }
}

class Histogram {
  readonly counts: number[]
  sum = 0
  count = 0
  private readonly bounds: readonly number[]

  constructor(bounds: readonly number[]) {
    this.bounds = bounds
    this.counts = bounds.map(() => 0)
  }

  observe(value: number): void {
    this.sum += value
    this.count++
    const bounds = this.bounds
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++
        return
      }
    }
  }
}

export class HistogramMetric extends LabelledMetric<Histogram> {
  readonly type = 'histogram'
  private readonly bounds: readonly number[]

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames)
    this.bounds = bounds
  }

  get(): Scraped {
    const values: Scraped['values'] = []
    for (const { labels, series } of this.all.values()) {
      let cumulative = 0
      for (const [i, bound] of this.bounds.entries()) {
        cumulative += series.counts[i]!
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...labels, le: bound },
          value: cumulative,
        })
      }
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...labels, le: '+Inf' },
        value: series.count,
      })
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum })
      values.push({ metricName: `${this.name}_count`, labels, value: series.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values }
  }

  protected create(): Histogram {
    return new Histogram(this.bounds)
  }

  protected zero(series: Histogram): void {
    series.counts.fill(0)
    series.sum = 0
    series.count = 0
  }
}
