// Gatehouse is started the way a user would: its own CLI, a real config file, the SQLite store in a fresh
// data dir, a client registered through `clients create`, production logging left on.
import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tokenRequest } from './load.ts'
import type { Alg } from './servers/jwt.ts'
import { freePort, type StartContext, type Started, startChild } from './spawn.ts'

export const GATEHOUSE_BIN = fileURLToPath(new URL('../packages/server/bin/gatehouse.ts', import.meta.url))

const ENV = { NODE_ENV: 'production', GATEHOUSE_LOG_LEVEL: 'info' }

function runCli(args: string[]): Promise<string> {
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
function parseClient(stdout: string): { client_id: string; client_secret: string } {
  const candidates = [stdout, ...stdout.split('\n').reverse()]
  for (const text of candidates) {
    try {
      const parsed = JSON.parse(text) as { client_id?: unknown; client_secret?: unknown }
      if (typeof parsed.client_id === 'string' && typeof parsed.client_secret === 'string') {
        return { client_id: parsed.client_id, client_secret: parsed.client_secret }
      }
    } catch {
      // not this line
    }
  }
  throw new Error(`gatehouse clients create printed no {client_id, client_secret} JSON:\n${stdout}`)
}

export async function startGatehouse(alg: Alg, ctx: StartContext): Promise<Started> {
  if (!existsSync(GATEHOUSE_BIN)) {
    throw new Error(
      `Gatehouse is not built yet: ${GATEHOUSE_BIN} does not exist. ` +
        'Run with --only oidc-provider,oauth2-server,floor to bench the others.',
    )
  }
  // Left for Gatehouse to create, as it would be on a first run.
  const dataDir = join(ctx.workDir, `gatehouse-${alg}`)
  const configFile = join(ctx.workDir, `gatehouse-${alg}.json`)
  writeFileSync(configFile, JSON.stringify({ tokens: { algorithm: alg } }, null, 2))

  const common = ['--data', dataDir, '--config', configFile]
  const created = parseClient(
    await runCli(['clients', 'create', ...common, '--name', 'bench', '--scope', 'bench.read', '--json']),
  )

  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const child = await startChild({
    name: 'gatehouse',
    args: [GATEHOUSE_BIN, 'serve', ...common, '--port', String(port), '--host', '127.0.0.1'],
    env: ENV,
    logFile: join(ctx.workDir, `gatehouse-${alg}.log`),
    readyUrl: `${baseUrl}/readyz`,
  })
  return {
    child,
    request: tokenRequest(baseUrl, created.client_id, created.client_secret),
    jwksUrl: `${baseUrl}/.well-known/jwks.json`,
  }
}
