// How each server under test is brought up for one algorithm, ending in the same thing for all of them:
// a running child and the one token request the load driver will repeat.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startGatehouse } from './gatehouse.ts'
import { tokenRequest } from './load.ts'
import type { Alg } from './servers/jwt.ts'
import { freePort, launchedBy, type StartContext, type Started, startChild } from './spawn.ts'

export const SERVER_NAMES = ['gatehouse', 'oidc-provider', 'oauth2-server', 'floor'] as const
export type ServerName = (typeof SERVER_NAMES)[number]

const HERE = fileURLToPath(new URL('.', import.meta.url))

async function startPeer(name: ServerName, alg: Alg, ctx: StartContext): Promise<Started> {
  const port = await freePort()
  const clientId = 'bench-client'
  const clientSecret = randomBytes(32).toString('base64url')
  const baseUrl = `http://127.0.0.1:${port}`
  const child = await startChild({
    name,
    args: [join(HERE, 'servers', `${name}.ts`)],
    env: {
      NODE_ENV: 'production',
      BENCH_ALG: alg,
      BENCH_PORT: String(port),
      BENCH_CLIENT_ID: clientId,
      BENCH_CLIENT_SECRET: clientSecret,
    },
    logFile: join(ctx.workDir, `${name}-${alg}.log`),
    readyUrl: `${baseUrl}/.well-known/jwks.json`,
    ...launchedBy(ctx),
  })
  return {
    child,
    request: tokenRequest(baseUrl, clientId, clientSecret),
    jwksUrl: `${baseUrl}/.well-known/jwks.json`,
  }
}

export function startServer(name: ServerName, alg: Alg, ctx: StartContext): Promise<Started> {
  return name === 'gatehouse' ? startGatehouse(alg, ctx) : startPeer(name, alg, ctx)
}
