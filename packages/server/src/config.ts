import { readFileSync } from 'node:fs'
import { type Config, ConfigError, parseConfig } from '@gatehouse/core'
import { parse as parseYaml } from 'yaml'

/** Options that flags and environment variables can set; everything else lives in the file. */
export interface ConfigOverrides {
  config?: string
  host?: string
  port?: string
  data?: string
  databaseUrl?: string
  redisUrl?: string
  issuer?: string
}

const ENV: Record<string, (value: string) => Record<string, unknown>> = {
  GATEHOUSE_HOST: (v) => ({ host: v }),
  GATEHOUSE_PORT: (v) => ({ port: toNumber(v) }),
  GATEHOUSE_DATA_DIR: (v) => ({ dataDir: v }),
  GATEHOUSE_DATABASE_URL: (v) => ({ databaseUrl: v }),
  GATEHOUSE_REDIS_URL: (v) => ({ redisUrl: v }),
  GATEHOUSE_ISSUER: (v) => ({ issuer: v }),
  GATEHOUSE_LOG_LEVEL: (v) => ({ logLevel: v }),
  GATEHOUSE_TOKEN_ALGORITHM: (v) => ({ tokens: { algorithm: v } }),
}

/**
 * Defaults, then the config file (JSON or YAML), then environment variables, then flags;
 * validated once, eagerly, with messages that name the path at fault.
 */
export function loadConfig(flags: ConfigOverrides, env: NodeJS.ProcessEnv = process.env): Config {
  const file = flags.config ?? env.GATEHOUSE_CONFIG
  let merged: Record<string, unknown> = file ? readConfigFile(file) : {}
  for (const [name, toConfig] of Object.entries(ENV)) {
    const value = env[name]
    if (value !== undefined && value !== '') merged = deepMerge(merged, toConfig(value))
  }
  const fromFlags: Record<string, unknown> = {
    host: flags.host,
    port: flags.port === undefined ? undefined : toNumber(flags.port),
    dataDir: flags.data,
    databaseUrl: flags.databaseUrl,
    redisUrl: flags.redisUrl,
    issuer: flags.issuer,
  }
  for (const [key, value] of Object.entries(fromFlags)) if (value !== undefined) merged[key] = value
  return parseConfig(merged)
}

/** The issuer is the configured one, else the address the server listens on. */
export function issuerOf(config: Config, port = config.port): string {
  if (config.issuer) return config.issuer.replace(/\/$/, '')
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  return `http://${host}:${port}`
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${file}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (error) {
    // yaml's message goes on with an excerpt of the file; the first line says what and where.
    const [what] = (error as Error).message.split('\n')
    throw new ConfigError(`the config file ${file} is neither valid JSON nor YAML: ${what}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`the config file ${file} must hold an object`)
  return parsed as Record<string, unknown>
}

function toNumber(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value
  }
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
