import { withAdmin } from './clients.ts'
import { type Command, storageOptions, toggleCommand } from './command.ts'
import { UsageError } from './errors.ts'
import { details } from './output.ts'
import { childView, serviceKeyView } from './views.ts'

const shownOnce = 'Store it now: Gatehouse keeps only its hash and will not show it again.'

export const credentialCommands: Record<string, Command> = {
  'service-keys create': {
    usage: 'service-keys create CLIENT_ID --service-name NAME [--scope S]...',
    summary: 'register a service key under a client allowed the servicekey grant; prints the key once',
    positionals: 1,
    options: {
      ...storageOptions,
      'service-name': { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
    async run(values, [clientId], output) {
      if (typeof values['service-name'] !== 'string') throw new UsageError('--service-name is required')
      await withAdmin(values, async (admin) => {
        const { record, serviceKey } = await admin.serviceKeys.create({
          clientId: clientId!,
          serviceName: values['service-name'] as string,
          scopes: values.scope as string[] | undefined,
        })
        const view = serviceKeyView(record, serviceKey)
        output.result(view, () => details(view))
        if (!output.json) output.note(shownOnce)
      })
    },
  },
  'service-keys delete': {
    usage: 'service-keys delete CLIENT_ID --service-name NAME',
    summary: "revoke one service key at once (a leaked one); the client's other service keys keep working",
    positionals: 1,
    options: { ...storageOptions, 'service-name': { type: 'string' } },
    async run(values, [clientId], output) {
      if (typeof values['service-name'] !== 'string') throw new UsageError('--service-name is required')
      const serviceName = values['service-name'] as string
      await withAdmin(values, async (admin) => {
        await admin.serviceKeys.delete(clientId!, serviceName)
        output.result(
          { client_id: clientId, service_name: serviceName, deleted: true },
          () => `deleted service key ${serviceName} of client ${clientId}`,
        )
      })
    },
  },
  'children create': {
    usage: 'children create CLIENT_ID --name NAME',
    summary: "register a customer's child credential under an integrator client; prints the secret once",
    positionals: 1,
    options: { ...storageOptions, name: { type: 'string' } },
    async run(values, [clientId], output) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required')
      await withAdmin(values, async (admin) => {
        const { record, childSecret } = await admin.children.create({
          clientId: clientId!,
          name: values.name as string,
        })
        const view = childView(record, childSecret)
        output.result(view, () => details(view))
        if (!output.json) output.note(shownOnce)
      })
    },
  },
  'children disable': childToggle(false),
  'children enable': childToggle(true),
}

function childToggle(enabled: boolean): Command {
  return toggleCommand({
    noun: 'children',
    key: 'CHILD_KEY',
    enabled,
    summary: enabled ? 'accept a child credential again' : 'refuse a child credential at once',
    toggle: async (admin, childKey, on) => childView(await admin.children.setEnabled(childKey, on)),
  })
}
