import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { atTurnEnd } from '../src/turn-end.ts'

const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

test('flushes put off together run once each, in order, after the code that put them off', async () => {
  const order: string[] = []
  atTurnEnd(() => order.push('a'))
  atTurnEnd(() => order.push('b'))
  order.push('sync')
  setImmediate(() => order.push('immediate'))
  await settle()
  assert.deepEqual(order, ['sync', 'a', 'b', 'immediate'])
})

test('what the callers a flush resumed put off is flushed in the same turn, not the next', async () => {
  // A write's caller goes on, through a few awaits, to ask for a signature.
  const order: string[] = []
  let committed!: () => void
  const written = new Promise<void>((resolve) => {
    committed = resolve
  })
  const caller = (async () => {
    await written
    await null
    await Promise.resolve()
    atTurnEnd(() => order.push('sign'))
  })()
  atTurnEnd(() => {
    order.push('commit')
    // Runs in the next turn: a setImmediate scheduled in the check phase waits for it.
    setImmediate(() => order.push('next turn'))
    committed()
  })
  await caller
  await settle()
  assert.deepEqual(order, ['commit', 'sign', 'next turn'])
})

test('a chain of flushes, each putting off the next, runs within one turn', async () => {
  const order: string[] = []
  const step = (n: number) => () => {
    order.push(`flush ${n}`)
    if (n === 1) setImmediate(() => order.push('next turn'))
    if (n < 4) queueMicrotask(() => atTurnEnd(step(n + 1)))
  }
  atTurnEnd(step(1))
  await settle()
  assert.deepEqual(order, ['flush 1', 'flush 2', 'flush 3', 'flush 4', 'next turn'])
  // And the scheduler is idle again: the next batch still runs.
  atTurnEnd(() => order.push('later'))
  await settle()
  assert.equal(order.at(-1), 'later')
})

test('a flush that throws is reported as uncaught, and the others and later work still run', async () => {
  // In a process of its own: the error reaches the process's uncaught-exception handling.
  const script = `
    import { atTurnEnd } from ${JSON.stringify(new URL('../src/turn-end.ts', import.meta.url).href)}
    const seen = []
    process.on('uncaughtException', (error) => seen.push('uncaught ' + error.message))
    atTurnEnd(() => { throw new Error('boom') })
    atTurnEnd(() => seen.push('second'))
    setTimeout(() => {
      atTurnEnd(() => seen.push('later'))
      setTimeout(() => console.log(JSON.stringify(seen)), 20)
    }, 20)
  `
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script])
  assert.deepEqual(JSON.parse(stdout), ['second', 'uncaught boom', 'later'])
})
