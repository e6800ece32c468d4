import { parseArgs } from 'node:util'
import {
  ConfigError,
  ConflictError,
  NotFoundError,
  StorageUnavailableError,
  ValidationError,
} from '@gatehouse/core'
import { apiCommands } from './apis.ts'
import { clientCommands } from './clients.ts'
import type { Command } from './command.ts'
import { credentialCommands } from './credentials.ts'
import { UsageError } from './errors.ts'
import { keyCommands } from './keys.ts'
import { createOutput } from './output.ts'
import { serveCommand } from './serve.ts'

const commands: Record<string, Command> = {
  serve: serveCommand,
  ...clientCommands,
  ...credentialCommands,
  ...apiCommands,
  ...keyCommands,
}

/** Runs the CLI; answers the exit status: 0 on success, 1 with a one-line message otherwise. */
export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(help())
    return first === undefined ? 1 : 0
  }
  const name = commands[`${first} ${second}`] ? `${first} ${second}` : first
  const command = commands[name]
  if (!command) {
    // "clients frobnicate" is a mistake within a group; a first word that is no group is the whole mistake.
    const group = Object.keys(commands)
      .filter((known) => known.startsWith(`${first} `))
      .map((known) => known.slice(first.length + 1))
    if (group.length > 0 && (second === undefined || second.startsWith('-')))
      return fail(`"${first}" needs a command: ${group.join(', ')}; run "gatehouse help" for the list`)
    const asked = group.length > 0 ? `${first} ${second}` : first
    return fail(`unknown command "${asked}"; run "gatehouse help" for the list`)
  }
  const rest = argv.slice(name.split(' ').length)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: gatehouse ${command.usage}\n  ${command.summary}\n`)
    return 0
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options,
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length !== command.positionals) throw new UsageError(`usage: gatehouse ${command.usage}`)
    await command.run(values, positionals, createOutput(values.json === true))
    return 0
  } catch (error) {
    return fail(messageOf(error))
  }
}

function messageOf(error: unknown): string {
  if (
    error instanceof UsageError ||
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof ConflictError ||
    error instanceof ConfigError ||
    error instanceof StorageUnavailableError
  ) {
    return error.message
  }
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    return argumentMessage(String(error.code), error.message)
  return error instanceof Error ? error.message : String(error)
}

/**
 * node:util's parseArgs errors, in one line of our own: its messages run to three lines and speak
 * of positional arguments, which only confuse here.
 */
function argumentMessage(code: string, message: string): string {
  const option = /'(--?[\w-]+)/.exec(message)?.[1]
  if (option === undefined) return message.split('\n')[0]!
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}; add --help for the options`
  if (message.includes('does not take an argument')) return `${option} takes no value`
  return `${option} needs a value (one that starts with a dash goes as ${option}=-…)`
}

function fail(message: string): number {
  process.stderr.write(`gatehouse: ${message.split('\n').join('\n  ')}\n`)
  return 1
}

function help(): string {
  const lines = Object.values(commands).map((c) => `  gatehouse ${c.usage}\n      ${c.summary}`)
  return [
    'Gatehouse: an authorization server for machine-to-machine APIs.',
    '',
    'Commands:',
    ...lines,
    '',
    'Every command takes --data DIR, --database-url URL and --config FILE (or GATEHOUSE_DATA_DIR,',
    'GATEHOUSE_DATABASE_URL, GATEHOUSE_CONFIG), and --json for one machine-readable JSON document.',
    '',
  ].join('\n')
}
