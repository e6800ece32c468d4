// One server under test = one child process, so its CPU is separate from the load driver's.
// Its output goes to a file rather than a pipe: a pipe would make the driver read every log line the
// server writes under load (Gatehouse logs at info), stealing CPU from the measurement.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TokenRequest } from './load.ts'

export interface StartOptions {
  name: string
  args: string[]
  env: Record<string, string>
  logFile: string
  // Ready when this URL answers 200 (every server here has such a GET route).
  readyUrl: string
  timeoutMs?: number
  // A command the server runs under, such as valgrind: it is given Node and the args.
  launcher?: readonly string[]
  // Options for Node itself, before the script.
  nodeFlags?: readonly string[]
}

export interface Child {
  name: string
  logFile: string
  pid: number
  stop(): Promise<void>
}

// What every target start ends in: a running child and the one token request the driver will repeat.
export interface Started {
  child: Child
  request: TokenRequest
  jwksUrl: string
}

export interface StartContext {
  workDir: string
  launcher?: readonly string[]
  nodeFlags?: readonly string[]
  // For a launcher that slows the start down.
  readyTimeoutMs?: number
}

/** The start options a context adds to a server's own. */
export function launchedBy(ctx: StartContext): Pick<StartOptions, 'launcher' | 'nodeFlags' | 'timeoutMs'> {
  return {
    ...(ctx.launcher ? { launcher: ctx.launcher } : {}),
    ...(ctx.nodeFlags ? { nodeFlags: ctx.nodeFlags } : {}),
    ...(ctx.readyTimeoutMs ? { timeoutMs: ctx.readyTimeoutMs } : {}),
  }
}

const running = new Set<ChildProcess>()

// Last resort for Ctrl-C or a crash in the driver: never leave a server behind holding a port.
function killAllOnExit(): void {
  for (const proc of running) proc.kill('SIGKILL')
}
process.on('exit', killAllOnExit)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllOnExit()
    process.exit(130)
  })
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

// The table has room for one line per failure; the last thing a server said is usually why it died.
function lastLine(text: string): string {
  return text.split('\n').findLast((line) => line.trim() !== '') ?? '(no output)'
}

export async function startChild(options: StartOptions): Promise<Child> {
  const fd = openSync(options.logFile, 'a')
  const [command, ...args] = [
    ...(options.launcher ?? []),
    process.execPath,
    ...(options.nodeFlags ?? []),
    ...options.args,
  ]
  const proc = spawn(command!, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  running.add(proc)

  let exited: string | undefined
  const exitPromise = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc)
      exited = signal ? `signal ${signal}` : `code ${code}`
      resolve()
    })
  })

  const stop = async (): Promise<void> => {
    if (exited) return
    proc.kill('SIGTERM')
    const killed = await Promise.race([exitPromise.then(() => true), sleep(3000).then(() => false)])
    if (!killed) {
      proc.kill('SIGKILL')
      await exitPromise
    }
  }

  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  while (Date.now() < deadline) {
    if (exited) {
      const tail = logTail(options.logFile)
      throw new Error(`${options.name} exited (${exited}) before it was ready: ${lastLine(tail)}\n${tail}`)
    }
    try {
      const res = await fetch(options.readyUrl, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) return { name: options.name, logFile: options.logFile, pid: proc.pid ?? 0, stop }
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  await stop()
  const tail = logTail(options.logFile)
  throw new Error(
    `${options.name} was not ready within ${options.timeoutMs ?? 20_000} ms: ${lastLine(tail)}\n${tail}`,
  )
}

export interface Memory {
  // Resident set now and its high-water mark since the process started, in MiB.
  rssMiB: number
  peakMiB: number
}

// Linux only: the bench reads the server's own accounting rather than trusting it to report itself.
export function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}
