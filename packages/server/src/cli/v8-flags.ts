import { setFlagsFromString } from 'node:v8'

const PRETENURING = 'allocation-site-pretenuring'

/**
 * The V8 flags `serve` sets for itself, given the flags the process was started with.
 *
 * V8 marks an allocation site to allocate straight into the old generation once most of its
 * objects survive scavenges, and does not take the mark back. A server started straight into a
 * spike (a thousand or more requests in flight at once, as when clients reconnect after a
 * restart) mostly had short-lived objects of its token path marked so, and then ran at 0.83–0.91 ×
 * a server that was not, for the rest of its life (`npx node bench/spike.ts --pretenuring`: five
 * spikes of six). Without pretenuring it ran at 0.98–1.01 ×, for 0.5 % more instructions a token
 * when no spike comes. A process started with either form of the flag keeps its choice.
 */
export function servingV8Flags(execArgv: readonly string[]): string[] {
  const chosen = execArgv.some((arg) => arg.replace(/_/g, '-').replace(/^--(no-)?/, '') === PRETENURING)
  return chosen ? [] : [`--no-${PRETENURING}`]
}

export function applyServingV8Flags(): void {
  for (const flag of servingV8Flags(process.execArgv)) setFlagsFromString(flag)
}
