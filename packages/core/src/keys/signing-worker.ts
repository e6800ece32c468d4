// The body of one signing thread (see signing-threads.ts): it holds the private keys it was
// sent and signs the inputs of each batch in order, answering in small groups.
import { type MessagePort, workerData } from 'node:worker_threads'
import { type JwsKey, jwsKey, signInput } from '../tokens/jws.ts'
import type { SignResult, ToSigningThread } from './signing-threads.ts'

// A result waits for company at most this long: a group of answers costs the main thread one
// message instead of several, and a slow RSA signature is still answered on its own.
const HOLD_MS = 0.2
const GROUP = 8

const keys = new Map<string, JwsKey>()
const port = (workerData as { port?: MessagePort } | null)?.port
if (!port) throw new Error('signing-worker.ts runs as a signing thread, given its port')

port.on('message', (message: ToSigningThread) => {
  if (message.kind === 'load') keys.set(message.kid, jwsKey(message.alg, message.key))
  else if (message.kind === 'unload') keys.delete(message.kid)
  else signAll(message.kids, message.inputs)
})

function signAll(kids: readonly string[], inputs: readonly string[]): void {
  let group: SignResult[] = []
  let since = 0
  for (let i = 0; i < inputs.length; i++) {
    if (group.length === 0) since = performance.now()
    group.push(signOne(kids[i]!, inputs[i]!))
    if (group.length >= GROUP || performance.now() - since >= HOLD_MS) {
      port!.postMessage(group)
      group = []
    }
  }
  if (group.length > 0) port!.postMessage(group)
}

function signOne(kid: string, input: string): SignResult {
  const key = keys.get(kid)
  if (!key) return { error: `signing key ${kid} is not loaded` }
  try {
    return signInput(key, input)
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}
