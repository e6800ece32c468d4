// A Gatehouse started straight into a spike against one that was not: what V8's state after the
// spike costs for the rest of the process. Two servers as `npm run bench` starts them, each with a
// client of its own. Before anything else reaches it, the `spiked` one takes `--connections`
// keep-alive connections at once, twice for 3 s (as when every client reconnects after a restart);
// then both get 3 s of warm-up at 50 connections and `--rounds` alternating runs of `--duration` s,
// and the table gives each round's req/s and the spiked server's ratio to the fresh one.
//
// `gatehouse serve` turns V8's allocation-site pretenuring off (packages/server/src/cli/v8-flags.ts);
// `--pretenuring` starts the spiked server with it on, as every server ran before. `--clients N` gives each
// server N seeded clients and drives every run over all of them, a request each in turn, so that the spike
// also brings N first lookups at once (as a restart's clients would) instead of one client's requests.
//
//   npx node bench/spike.ts [--alg ES256] [--connections 2000] [--clients 1] [--rounds 6] [--duration 4] [--pretenuring]
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gatehouseFiles, serveGatehouse, startGatehouse } from './gatehouse.ts'
import { type CannonPlan, cannonPlan, detectDriver, runPlan } from './load.ts'
import { positive } from './options.ts'
import { progress } from './rounds.ts'
import { initialiseDataDir, seedClients, spreadPlan } from './scale.ts'
import { DEFAULT_SEED, seededClient, seededKey, spreadIndices } from './seeded.ts'
import { parseAlg } from './servers/jwt.ts'
import type { Child } from './spawn.ts'
import { alignColumns, fmt, ratioCell } from './table.ts'

const CONNECTIONS = 50
const SPIKE_RUNS = 2
const SPIKE_SECONDS = 3
const WARM_UP_SECONDS = 3

const { values } = parseArgs({
  options: {
    alg: { type: 'string', default: 'ES256' },
    connections: { type: 'string' },
    clients: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    pretenuring: { type: 'boolean', default: false },
  },
})
const alg = parseAlg(values.alg)
const spike = positive(values.connections, 2000, 'connections')
const clients = Math.round(positive(values.clients, 1, 'clients'))
const rounds = positive(values.rounds, 6, 'rounds')
const duration = positive(values.duration, 4, 'duration')
const driver = detectDriver()

const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-spike-'))
const children: Child[] = []
try {
  const start = async (label: string, nodeFlags: string[]): Promise<CannonPlan> => {
    if (clients === 1) {
      const started = await startGatehouse(alg, { workDir, nodeFlags }, label)
      children.push(started.child)
      return cannonPlan(started.request)
    }
    const files = gatehouseFiles(workDir, label, alg)
    await initialiseDataDir(files)
    await seedClients(files, clients)
    const server = await serveGatehouse(files, label, { workDir, nodeFlags })
    children.push(server.child)
    const key = seededKey(DEFAULT_SEED)
    return spreadPlan(
      server.baseUrl,
      spreadIndices(clients, clients).map((i) => seededClient(key, i)),
    )
  }
  const fresh = await start('fresh', [])
  const spiked = await start('spiked', values.pretenuring ? ['--allocation-site-pretenuring'] : [])

  for (let i = 1; i <= SPIKE_RUNS; i++) {
    const run = await runPlan(driver, spiked, spike, SPIKE_SECONDS, workDir)
    progress(`spike ${i}/${SPIKE_RUNS}: ${spike} connections, ${fmt(run.rps, 0)} req/s, ${run.errors} errors`)
  }
  for (const plan of [fresh, spiked]) await runPlan(driver, plan, CONNECTIONS, WARM_UP_SECONDS, workDir)

  const body: string[][] = []
  const ratios: number[] = []
  for (let round = 1; round <= rounds; round++) {
    // Alternate which goes first, so neither always meets a warmer or cooler machine.
    const order = round % 2 === 1 ? [fresh, spiked] : [spiked, fresh]
    const rps = new Map<CannonPlan, number>()
    for (const plan of order) rps.set(plan, (await runPlan(driver, plan, CONNECTIONS, duration, workDir)).rps)
    const ratio = rps.get(spiked)! / rps.get(fresh)!
    ratios.push(ratio)
    progress(`round ${round}/${rounds}: spiked ÷ fresh ${ratio.toFixed(3)}`)
    body.push([String(round), fmt(rps.get(fresh)!, 0), fmt(rps.get(spiked)!, 0), `${ratio.toFixed(2)}×`])
  }
  body.push(['median', '', '', ratioCell(ratios)])
  console.log(
    [
      `Gatehouse started into a spike of ${spike} connections (${SPIKE_RUNS} × ${SPIKE_SECONDS} s, before anything else) ` +
        (clients > 1 ? `over ${clients} clients in turn ` : '') +
        `against one that was not, ${alg}, ${driver}, ${CONNECTIONS} connections, ${rounds} rounds of ${duration} s` +
        (values.pretenuring ? '; the spiked server with --allocation-site-pretenuring' : ''),
      `node ${process.versions.node}, ${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
        `load average ${(loadavg()[0] ?? 0).toFixed(2)} at end`,
      '',
      ...alignColumns(['round', 'fresh req/s', 'spiked req/s', 'spiked ÷ fresh'], body, [0]),
      '',
      "median = the median of the rounds' ratios, and in brackets their range. A spike does not always leave the",
      'state behind: run it more than once.',
    ].join('\n'),
  )
} finally {
  for (const child of children) await child.stop()
  rmSync(workDir, { recursive: true, force: true })
}
