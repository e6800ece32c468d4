// Gatehouse is started the way a user would: its own CLI, a real config file, the SQLite store in a fresh
// data dir, a client registered through `clients create`, production logging left on.
import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { tokenRequest } from './load.ts'
import type { Alg } from './servers/jwt.ts'
import { type Child, freePort, launchedBy, type StartContext, type Started, startChild } from './spawn.ts'

export const GATEHOUSE_BIN = fileURLToPath(new URL('../packages/server/bin/gatehouse.ts', import.meta.url))

export const ENV = { NODE_ENV: 'production', GATEHOUSE_LOG_LEVEL: 'info' }

// Two CLI commands started at once can fail to open the database ("database is locked": SqliteStore sets
// journal_mode before busy_timeout), before either writes anything; such a failure is retried.
const OPEN_FAILED = /cannot open the SQLite database/

export async function runCli(args: string[]): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runCliOnce(args)
    } catch (err) {
      if (attempt >= 3 || !OPEN_FAILED.test((err as Error).message)) throw err
      process.stderr.write(`gatehouse ${args.slice(0, 2).join(' ')}: could not open the database, retrying\n`)
      await sleep(200 * attempt)
    }
  }
}

function runCliOnce(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [GATEHOUSE_BIN, ...args],
      { env: { ...process.env, ...ENV }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout)
        // Lead with what the CLI said, not execFile's echo of the command line.
        const said = `${stderr}${stdout}`.trim()
        const why = said.split('\n').findLast((line) => line.trim() !== '') ?? err.message
        reject(new Error(`gatehouse ${args.slice(0, 2).join(' ')} failed: ${why}\n${said}`))
      },
    )
  })
}

// The CLI promises one JSON object on stdout; tolerate stray lines around it rather than fail the run.
export function parseCliJson<const K extends string>(
  stdout: string,
  fields: readonly K[],
): Record<K, string> {
  const candidates = [stdout, ...stdout.split('\n').reverse()]
  for (const text of candidates) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>
      if (fields.every((f) => typeof parsed[f] === 'string')) return parsed as Record<K, string>
    } catch {
      // not this line
    }
  }
  throw new Error(`the gatehouse CLI printed no JSON with ${fields.join(', ')}:\n${stdout}`)
}

export function parseClient(stdout: string): { client_id: string; client_secret: string } {
  return parseCliJson(stdout, ['client_id', 'client_secret'])
}

export function checkBuilt(): void {
  if (!existsSync(GATEHOUSE_BIN)) {
    throw new Error(
      `Gatehouse is not built yet: ${GATEHOUSE_BIN} does not exist. ` +
        'Run with --only oidc-provider,oauth2-server,floor to bench the others.',
    )
  }
}

// One Gatehouse instance's files: a config file naming the algorithm and a data dir, both under the work dir.
export interface GatehouseFiles {
  dataDir: string
  configFile: string
  // --data and --config, for the CLI and for `serve`.
  common: string[]
}

export function gatehouseFiles(workDir: string, label: string, alg: Alg): GatehouseFiles {
  // Left for Gatehouse to create, as it would be on a first run.
  const dataDir = join(workDir, `gatehouse-${label}`)
  const configFile = join(workDir, `gatehouse-${label}.json`)
  writeFileSync(configFile, JSON.stringify({ tokens: { algorithm: alg } }, null, 2))
  return { dataDir, configFile, common: ['--data', dataDir, '--config', configFile] }
}

export interface RunningGatehouse {
  child: Child
  baseUrl: string
  jwksUrl: string
}

export async function serveGatehouse(
  files: GatehouseFiles,
  label: string,
  ctx: StartContext,
): Promise<RunningGatehouse> {
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const child = await startChild({
    name: 'gatehouse',
    args: [GATEHOUSE_BIN, 'serve', ...files.common, '--port', String(port), '--host', '127.0.0.1'],
    env: ENV,
    logFile: join(ctx.workDir, `gatehouse-${label}.log`),
    readyUrl: `${baseUrl}/readyz`,
    ...launchedBy(ctx),
  })
  return { child, baseUrl, jwksUrl: `${baseUrl}/.well-known/jwks.json` }
}

export async function startGatehouse(alg: Alg, ctx: StartContext, label: string = alg): Promise<Started> {
  checkBuilt()
  const files = gatehouseFiles(ctx.workDir, label, alg)
  const created = parseClient(
    await runCli([
      'clients',
      'create',
      ...files.common,
      '--name',
      'bench',
      '--scope',
      'bench.read',
      '--json',
    ]),
  )
  const { child, baseUrl, jwksUrl } = await serveGatehouse(files, label, ctx)
  return { child, request: tokenRequest(baseUrl, created.client_id, created.client_secret), jwksUrl }
}
