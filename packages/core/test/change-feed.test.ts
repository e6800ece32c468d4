import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ChangeFeed } from '../src/storage/change-feed.ts'
import { sampleClient, sampleKey } from '../src/storage/contract.ts'
import { MemoryStore } from '../src/storage/memory.ts'

test('a listener that fails holds no later change back, and its kind is retried until it succeeds', async () => {
  const store = new MemoryStore()
  const errors: unknown[] = []
  const feed = new ChangeFeed({ store, interval: 60_000, onError: (error) => errors.push(error) })
  let keysLoad = false
  const seen: string[] = []
  feed.on('key', () => {
    seen.push('key')
    if (!keysLoad) throw new Error('cannot decrypt: wrong master key')
  })
  feed.on('client', ({ id }) => {
    seen.push(`client ${id}`)
  })
  await feed.mark()

  await store.insertSigningKey(sampleKey('kid-foreign', 1))
  await store.insertClient(sampleClient('c-disabled'))
  await feed.poll()
  assert.deepEqual(seen, ['key', 'client c-disabled'], 'the client change is not held back')
  assert.deepEqual([...feed.failing], ['key'])

  await feed.poll()
  await feed.poll()
  assert.deepEqual(seen.slice(2), ['key', 'key'], 'the failed kind is tried again at each poll')
  assert.equal(errors.length, 1, 'and told once')

  keysLoad = true
  await feed.poll()
  assert.deepEqual([...feed.failing], [])
  await feed.poll()
  assert.equal(seen.filter((s) => s === 'key').length, 4, 'no more retries once it succeeded')
})
