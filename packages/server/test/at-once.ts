import { Worker } from 'node:worker_threads'

/** What one thread's `body` returned, or what it threw, as text. */
export type Outcome = { value: unknown } | { error: string }

/**
 * Runs `body` on `count` threads at the same moment, for races between processes that share
 * files: each thread imports `module`, says it is ready and waits, and all start together once
 * every one is ready. `body` is the text of an async function's body, given `mod` (the module's
 * exports) and `data`.
 */
export async function atOnce(module: URL, body: string, data: unknown, count: number): Promise<Outcome[]> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { module, data, cells } = workerData
    import(module).then(async (mod) => {
      Atomics.add(cells, 1, 1)
      Atomics.wait(cells, 0, 0)
      try {
        parentPort.postMessage({ value: await (async () => { ${body} })() })
      } catch (error) {
        parentPort.postMessage({ error: String(error) + (error.cause ? ' (' + String(error.cause) + ')' : '') })
      }
    })`
  const cells = new Int32Array(new SharedArrayBuffer(8))
  const outcomes = Array.from(
    { length: count },
    () =>
      new Promise<Outcome>((resolve) => {
        const worker = new Worker(code, { eval: true, workerData: { module: module.href, data, cells } })
        worker.once('message', (outcome: Outcome) => {
          resolve(outcome)
          void worker.terminate()
        })
        worker.once('error', (error) => resolve({ error: String(error) }))
      }),
  )
  while (Atomics.load(cells, 1) < count) await new Promise((resolve) => setTimeout(resolve, 5))
  Atomics.store(cells, 0, 1)
  Atomics.notify(cells, 0)
  return Promise.all(outcomes)
}
