import { availableParallelism } from 'node:os'
import { z } from 'zod'

/*
 * The one configuration schema. Every option has a default; `loadConfig` in the server
 * merges file, environment and flags over these and validates once at start-up, with
 * messages that name the offending path. The README's configuration reference mirrors it.
 */

const path = z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must be an absolute URL path such as /oauth/token')
const seconds = z.number().int().positive()

const endpoint = (defaults: { path: string; tokenTtl: number }) =>
  z
    .object({
      enabled: z.boolean().default(true),
      path: path.default(defaults.path),
      tokenTtl: seconds.default(defaults.tokenTtl),
    })
    .strict()
    .prefault({})

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Defaults to http://<host>:<port>. */
    issuer: z.url().optional(),
    dataDir: z.string().min(1).default('./data'),
    databaseUrl: z.string().optional(),
    redisUrl: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    tokens: z
      .object({
        algorithm: z.enum(['RS256', 'ES256', 'EdDSA']).default('RS256'),
        typ: z.enum(['at+jwt', 'JWT']).default('at+jwt'),
        /** The `aud` of scopes that no API claims; defaults to the issuer. */
        defaultAudience: z.string().min(1).optional(),
        /**
         * Upper bound for every token's lifetime (an endpoint's or a client's longer one is cut to
         * it); retired keys stay published this long.
         */
        maxTtl: seconds.default(86400),
        /** Allow one token for scopes of several APIs (an `aud` array); off, a client must pick one API. */
        allowMultipleAudiences: z.boolean().default(false),
        /** Lifetime of refresh tokens (seed 003: 30 days). */
        refreshTokenTtl: seconds.default(30 * 86400),
        /**
         * How many refresh-token families (live chains) a client keeps; the oldest beyond this
         * are deleted, as Auth0 limits refresh tokens per application.
         */
        refreshFamiliesPerClient: z.number().int().min(1).default(1000),
      })
      .strict()
      .prefault({}),
    keys: z
      .object({
        /** How long a new key is published before it signs. */
        leadTime: z.number().int().min(0).default(600),
        /** Rotate the signing key automatically when it has signed this long (seconds; 0: never). */
        rotationPeriod: z
          .number()
          .int()
          .min(0)
          .default(90 * 86400),
        /**
         * Worker threads that sign ES256 and EdDSA tokens (default: one per CPU beside the
         * one the event loop needs, at least 1 and at most 8; on two CPUs one thread issued
         * about 1.1 times the tokens two did, which took turns with the event loop on its
         * core); 0 signs them on Node's libuv thread pool, where RS256 always signs.
         */
        signingThreads: z
          .number()
          .int()
          .min(0)
          .max(64)
          .default(() => Math.max(1, Math.min(availableParallelism() - 1, 8))),
      })
      .strict()
      .prefault({}),
    rateLimit: z
      .object({
        /** Failed attempts per client id per minute before 429. */
        failuresPerClient: seconds.default(20),
        /** Failed attempts per remote address per minute before 429. */
        failuresPerAddress: seconds.default(100),
      })
      .strict()
      .prefault({}),
    /** How often a server polls storage for changes made elsewhere (CLI, other instances). */
    changePollInterval: z.number().int().min(50).max(1000).default(250),
    endpoints: z
      .object({
        /** RFC 6749, and seed 002's parent/child grants. */
        oauth2: endpoint({ path: '/oauth/token', tokenTtl: 3600 }),
        /** RFC 7662 token introspection. */
        introspection: z
          .object({ enabled: z.boolean().default(true), path: path.default('/oauth/introspect') })
          .strict()
          .prefault({}),
        /** RFC 7009 token revocation. */
        revocation: z
          .object({ enabled: z.boolean().default(true), path: path.default('/oauth/revoke') })
          .strict()
          .prefault({}),
        /** Seed 000: the service-key grant. */
        servicekey: endpoint({ path: '/connect/token', tokenTtl: 7200 }),
        /** Seed 001: MD5 signature authentication. */
        signature: z
          .object({
            enabled: z.boolean().default(true),
            path: path.default('/api/TokenAuth/Authenticate'),
            tokenTtl: seconds.default(86400),
            /** How far `time` may lie from the server's clock, in seconds. */
            window: seconds.default(300),
          })
          .strict()
          .prefault({}),
        /** Seed 003: token with refresh; serves {basePath}/token and {basePath}/token/refreshment. */
        refreshable: z
          .object({
            enabled: z.boolean().default(true),
            basePath: path.default('/amsu-analysis/v2'),
            tokenTtl: seconds.default(86400),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Each enabled endpoint on a path of its own: a token path over another route shadows it.
    const takenBy = new Map<string, string>(FIXED_ROUTES.map((route) => [route, 'a built-in route']))
    for (const [name, route] of enabledPaths(config.endpoints)) {
      const holder = takenBy.get(route)
      if (holder !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', name],
          message: `the path ${route} is already ${holder}`,
        })
      else takenBy.set(route, `endpoints.${name}'s`)
    }
  })

// The server's own routes (server/src/routes), which no endpoint may take.
const FIXED_ROUTES = [
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
  '/.well-known/jwks.json',
  '/healthz',
  '/readyz',
  '/metrics',
]

/** Every path an enabled endpoint serves, with the endpoint's name. */
function enabledPaths(endpoints: z.infer<typeof configSchema>['endpoints']): [string, string][] {
  const paths: [string, string][] = []
  for (const [name, endpoint] of Object.entries(endpoints)) {
    if (!endpoint.enabled) continue
    if ('basePath' in endpoint)
      paths.push([name, `${endpoint.basePath}/token`], [name, `${endpoint.basePath}/token/refreshment`])
    else paths.push([name, endpoint.path])
  }
  return paths
}

export type Config = z.infer<typeof configSchema>
export type ConfigInput = z.input<typeof configSchema>

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/**
 * Validates configuration, turning zod's issues into one line that names each path (the CLI's
 * errors are one line each).
 */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
  throw new ConfigError(`invalid configuration: ${issues.join('; ')}`)
}
