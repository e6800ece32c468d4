// The CPU a server spends per request, from /proc (Linux): all of its threads, and its main thread alone.
// On a shared machine req/s swings with the host's speed; CPU per request moves far less, and it tells
// what a server does with the cores (two servers bound by the same signature are told apart by it).
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import type { LoadResult } from './load.ts'

// utime and stime count in clock ticks of USER_HZ (100 on Linux builds for x86 and ARM).
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

interface CpuSeconds {
  total: number
  main: number
}

function seconds(statFile: string): number {
  return statOf(statFile).seconds
}

function statOf(statFile: string): { name: string; seconds: number } {
  const stat = readFileSync(statFile, 'utf8')
  // Fields after the command name, which is in parentheses and may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
  }
}

/** CPU seconds of each of a process's threads, summed by thread name (a pool's threads share one). */
export function threadSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, seconds } = statOf(`/proc/${pid}/task/${tid}/stat`)
      byName.set(name, (byName.get(name) ?? 0) + seconds)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName
}

/** CPU seconds of one process, all threads. */
export function processSeconds(pid: number): number {
  return seconds(`/proc/${pid}/stat`)
}

/** Seconds the machine's CPUs have sat idle (idle and iowait, summed over the CPUs) since boot. */
export function idleSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/)
  return (Number(fields[4]) + Number(fields[5])) / TICKS_PER_SECOND
}

function cpuOf(pid: number): CpuSeconds | undefined {
  try {
    return { total: seconds(`/proc/${pid}/stat`), main: seconds(`/proc/${pid}/task/${pid}/stat`) }
  } catch {
    // Not Linux, or the process is gone: the table shows a dash.
    return undefined
  }
}

/** Runs a load against the server process `pid` and adds its CPU per request to the result. */
export async function withCpu(pid: number | undefined, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = pid === undefined ? undefined : cpuOf(pid)
  const result = await run()
  const after = pid === undefined ? undefined : cpuOf(pid)
  if (!before || !after || result.requests === 0) return result
  const perRequest = (s: number) => (s * 1e6) / result.requests
  return {
    ...result,
    cpu: { totalUs: perRequest(after.total - before.total), mainUs: perRequest(after.main - before.main) },
  }
}
