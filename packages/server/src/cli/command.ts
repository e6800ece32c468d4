import type { ParseArgsConfig } from 'node:util'
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
