import type { ParseArgsConfig } from 'node:util'
import { type AdminContext, openAdmin, type StorageFlags } from './context.ts'
import type { Output } from './output.ts'

export type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>

export interface Command {
  /** e.g. 'clients create ID'. */
  usage: string
  summary: string
  options: Options
  /** How many positional arguments it takes. */
  positionals: number
  run(values: Values, positionals: string[], output: Output): Promise<void>
}

/** Options every command takes: where the storage is, and how to print. */
export const storageOptions: Options = {
  data: { type: 'string' },
  'database-url': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
}

/**
 * `<noun> enable|disable KEY`: the same command for clients and child credentials, which
 * differ only in what they switch and how they show it.
 */
export function toggleCommand(options: {
  noun: string
  key: string
  enabled: boolean
  summary: string
  toggle(admin: AdminContext, key: string, enabled: boolean): Promise<Record<string, unknown>>
}): Command {
  const verb = options.enabled ? 'enable' : 'disable'
  return {
    usage: `${options.noun} ${verb} ${options.key}`,
    summary: options.summary,
    positionals: 1,
    options: storageOptions,
    async run(values, [key], output) {
      const admin = await openAdmin(values as StorageFlags)
      try {
        const view = await options.toggle(admin, key!, options.enabled)
        output.result(view, () => `${verb}d ${options.noun.replace(/ren$|s$/, '')} ${key}`)
      } finally {
        await admin.close()
      }
    },
  }
}
