import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Metrics } from '../src/metrics.ts'

test('token metrics scrape in the Prometheus text format: labelled counters and a cumulative histogram', async () => {
  const metrics = new Metrics()
  metrics.recordToken('oauth2', 'client_credentials', 'success', 0.0004)
  metrics.recordToken('oauth2', 'client_credentials', 'success', 0.003)
  metrics.recordToken('oauth2', 'client_credentials', 'invalid_client', 2)
  metrics.tokenRequests.inc({ endpoint: 'introspection', grant_type: 'none', outcome: 'success' })
  const text = await metrics.registry.metrics()
  const lines = (prefix: string) => text.split('\n').filter((line) => line.startsWith(prefix))
  assert.deepEqual(lines('gatehouse_token_requests_total'), [
    'gatehouse_token_requests_total{endpoint="oauth2",grant_type="client_credentials",outcome="success"} 2',
    'gatehouse_token_requests_total{endpoint="oauth2",grant_type="client_credentials",outcome="invalid_client"} 1',
    'gatehouse_token_requests_total{endpoint="introspection",grant_type="none",outcome="success"} 1',
  ])
  const histogram = 'gatehouse_token_request_duration_seconds'
  assert.deepEqual(lines(`${histogram}_bucket`).slice(0, 4), [
    `${histogram}_bucket{endpoint="oauth2",le="0.0005"} 1`,
    `${histogram}_bucket{endpoint="oauth2",le="0.001"} 1`,
    `${histogram}_bucket{endpoint="oauth2",le="0.0025"} 1`,
    `${histogram}_bucket{endpoint="oauth2",le="0.005"} 2`,
  ])
  assert.ok(lines(`${histogram}_bucket`).includes(`${histogram}_bucket{endpoint="oauth2",le="1"} 2`))
  assert.ok(lines(`${histogram}_bucket`).includes(`${histogram}_bucket{endpoint="oauth2",le="+Inf"} 3`))
  assert.deepEqual(lines(`${histogram}_count`), [`${histogram}_count{endpoint="oauth2"} 3`])
  assert.deepEqual(lines(`${histogram}_sum`), [`${histogram}_sum{endpoint="oauth2"} 2.0034`])
  assert.match(text, /# TYPE gatehouse_token_request_duration_seconds histogram/)
  assert.match(text, /# TYPE gatehouse_token_requests_total counter/)
})

test('resetting the registry zeroes the token series, which go on counting', async () => {
  const metrics = new Metrics()
  metrics.recordToken('oauth2', 'client_credentials', 'success', 0.001)
  await metrics.registry.resetMetrics()
  metrics.recordToken('oauth2', 'client_credentials', 'success', 0.001)
  const text = await metrics.registry.metrics()
  assert.match(text, /gatehouse_token_requests_total\{[^}]*outcome="success"\} 1\n/)
  assert.match(text, /gatehouse_token_request_duration_seconds_count\{endpoint="oauth2"\} 1\n/)
})
