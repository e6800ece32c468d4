/**
 * Work put off to the end of the event loop's turn, so that what one turn's requests ask for
 * goes out together: one commit for their writes, one message to a signing thread for their
 * signatures.
 *
 * The flushes that are due run in the turn's check phase, as `setImmediate` callbacks would.
 * A flush resolves promises, and their callers go on as microtasks after it; what those
 * callers then put off (a replay check's caller going on to sign its token) is flushed in
 * the same check phase, once they have run as far as they can without waiting. With
 * `setImmediate` alone it waited for the next turn, behind that turn's reading of new
 * requests: a request that writes and then signs waited a turn more than one that only
 * signs, and the cores sat idle for part of it.
 */
let due: (() => void)[] = []
let draining = false

/** Calls `flush` at the end of this turn; call it once per batch, when the batch starts. */
export function atTurnEnd(flush: () => void): void {
  due.push(flush)
  if (due.length === 1 && !draining) setImmediate(drain)
}

function drain(): void {
  draining = true
  const flushes = due
  due = []
  // Queued before the flushes run, so that one that throws cannot leave `draining` set and
  // the work put off after it stranded.
  queueMicrotask(afterCallers)
  for (const flush of flushes) {
    try {
      flush()
    } catch (error) {
      // Thrown out of a microtask, as it would have been out of an immediate: the process's
      // uncaught-exception handling sees it, and the other flushes still run.
      queueMicrotask(() => {
        throw error
      })
    }
  }
}

// A tick queued from a microtask runs once the microtask queue is empty, that is after every
// caller the flushes resumed has run until it waits on something.
function afterCallers(): void {
  process.nextTick(again)
}

function again(): void {
  if (due.length > 0) drain()
  else draining = false
}
