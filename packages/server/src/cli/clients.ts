import { readFileSync } from 'node:fs'
import type { ClientRecord } from '@gatehouse/core'
import { type Command, storageOptions, toggleCommand, type Values } from './command.ts'
import { type AdminContext, openAdmin, type StorageFlags } from './context.ts'
import { UsageError } from './errors.ts'
import { details } from './output.ts'
import { clientView } from './views.ts'

const secretWarning = 'Store the secret now: Gatehouse keeps only its hash and will not show it again.'

export const clientCommands: Record<string, Command> = {
  'clients create': {
    usage:
      'clients create --name NAME [--client-id ID] [--client-secret SECRET] [--scope S]... [--grant G]... [--token-ttl SECONDS] [--signature] [--public] [--introspect] [--jwks FILE|URL]',
    summary: 'register a client and print its secret once',
    positionals: 0,
    options: {
      ...storageOptions,
      name: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      scope: { type: 'string', multiple: true },
      grant: { type: 'string', multiple: true },
      'token-ttl': { type: 'string' },
      signature: { type: 'boolean' },
      public: { type: 'boolean' },
      introspect: { type: 'boolean' },
      jwks: { type: 'string' },
    },
    async run(values, _positionals, output) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required')
      await withAdmin(values, async (admin) => {
        const { client, secret } = await admin.clients.create({
          name: values.name as string,
          clientId: values['client-id'] as string | undefined,
          clientSecret: values['client-secret'] as string | undefined,
          scopes: values.scope as string[] | undefined,
          grants: values.grant as string[] | undefined,
          tokenTtl: integer(values['token-ttl'], '--token-ttl'),
          signature: values.signature === true,
          isPublic: values.public === true,
          introspect: values.introspect === true,
          ...clientKeys(values.jwks as string | undefined),
        })
        const view = clientView(client, secret)
        output.result(view, () => details(view))
        if (secret !== undefined && !output.json) output.note(secretWarning)
      })
    },
  },
  'clients list': {
    usage: 'clients list',
    summary: 'list clients',
    positionals: 0,
    options: storageOptions,
    async run(values, _positionals, output) {
      await withAdmin(values, async (admin) => {
        await output.list(views(admin.clients.list()), [
          'client_id',
          'name',
          'enabled',
          'scopes',
          'grants',
          'token_ttl',
          'created_at',
        ])
      })
    },
  },
  'clients show': {
    usage: 'clients show ID',
    summary: 'show one client',
    positionals: 1,
    options: storageOptions,
    async run(values, [id], output) {
      await withAdmin(values, async (admin) => {
        const view = clientView(await admin.clients.get(id!))
        output.result(view, () => details(view))
      })
    },
  },
  'clients rotate-secret': {
    usage: 'clients rotate-secret ID [--grace SECONDS]',
    summary: 'issue a new secret; old ones stop now or after the grace period',
    positionals: 1,
    options: { ...storageOptions, grace: { type: 'string' } },
    async run(values, [id], output) {
      await withAdmin(values, async (admin) => {
        const { client, secret } = await admin.clients.rotateSecret(
          id!,
          integer(values.grace, '--grace') ?? 0,
        )
        const view = clientView(client, secret)
        output.result(view, () => details(view))
        if (!output.json) output.note(secretWarning)
      })
    },
  },
  'clients disable': toggle(false),
  'clients enable': toggle(true),
  'clients delete': {
    usage: 'clients delete ID',
    summary: 'delete a client and everything it holds',
    positionals: 1,
    options: storageOptions,
    async run(values, [id], output) {
      await withAdmin(values, async (admin) => {
        await admin.clients.delete(id!)
        output.result({ client_id: id, deleted: true }, () => `deleted client ${id}`)
      })
    },
  },
}

function toggle(enabled: boolean): Command {
  return toggleCommand({
    noun: 'clients',
    key: 'ID',
    enabled,
    summary: enabled ? 'let a client get tokens again' : 'refuse a client at once, with all its credentials',
    toggle: async (admin, id, on) => clientView(await admin.clients.setEnabled(id, on)),
  })
}

export async function withAdmin<T>(
  values: Values,
  work: (admin: AdminContext) => Promise<T>,
  options?: { checkMasterKey?: boolean },
): Promise<T> {
  const admin = await openAdmin(values as StorageFlags, options)
  try {
    return await work(admin)
  } finally {
    await admin.close()
  }
}

/** --jwks takes a URL, or a file holding a JWKS or one JWK (public keys only). */
function clientKeys(value: string | undefined): { jwks?: unknown; jwksUri?: string } {
  if (value === undefined) return {}
  if (/^https?:\/\//i.test(value)) return { jwksUri: value }
  let text: string
  try {
    text = readFileSync(value, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read --jwks ${value}: ${(error as Error).message}`)
  }
  try {
    return { jwks: JSON.parse(text) }
  } catch {
    throw new UsageError(`--jwks ${value} is not JSON (a JWKS or a JWK)`)
  }
}

export function integer(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^\d+$/.test(value))
    throw new UsageError(`${flag} must be a whole number`)
  return Number(value)
}

async function* views(clients: AsyncIterable<ClientRecord>): AsyncGenerator<Record<string, unknown>> {
  for await (const client of clients) yield clientView(client)
}
