import { withAdmin } from './clients.ts'
import { type Command, storageOptions } from './command.ts'
import { UsageError } from './errors.ts'
import { details, table } from './output.ts'
import { apiView } from './views.ts'

export const apiCommands: Record<string, Command> = {
  'apis create': {
    usage: 'apis create --identifier URI --scope S...',
    summary: 'register an API; its identifier becomes the aud of tokens with its scopes',
    positionals: 0,
    options: { ...storageOptions, identifier: { type: 'string' }, scope: { type: 'string', multiple: true } },
    async run(values, _positionals, output) {
      if (typeof values.identifier !== 'string') throw new UsageError('--identifier is required')
      await withAdmin(values, async (admin) => {
        const view = apiView(
          await admin.apis.create({
            identifier: values.identifier as string,
            scopes: (values.scope as string[]) ?? [],
          }),
        )
        output.result(view, () => details(view))
      })
    },
  },
  'apis list': {
    usage: 'apis list',
    summary: 'list APIs and their scopes',
    positionals: 0,
    options: storageOptions,
    async run(values, _positionals, output) {
      await withAdmin(values, async (admin) => {
        const views = (await admin.apis.list()).map(apiView)
        output.result(views, () => table(views, ['identifier', 'scopes', 'created_at']))
      })
    },
  },
}
