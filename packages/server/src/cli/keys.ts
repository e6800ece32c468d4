import { nowSeconds, systemClock } from '@gatehouse/core'
import { withAdmin } from './clients.ts'
import { type Command, storageOptions } from './command.ts'
import { details, table } from './output.ts'
import { keyView } from './views.ts'

export const keyCommands: Record<string, Command> = {
  'keys list': {
    usage: 'keys list',
    summary: 'list signing keys with their state and dates',
    positionals: 0,
    options: storageOptions,
    async run(values, _positionals, output) {
      await withAdmin(values, async (admin) => {
        const now = nowSeconds(systemClock)
        const views = (await admin.store.listSigningKeys()).map((k) =>
          keyView(k, now, admin.config.tokens.maxTtl),
        )
        output.result(views, () =>
          table(views, ['kid', 'alg', 'state', 'activates_at', 'retires_at', 'published_until']),
        )
      })
    },
  },
  'keys rotate': {
    usage: 'keys rotate [--now]',
    summary: 'publish a new key that signs after the lead time (--now: at once, for a compromised key)',
    positionals: 0,
    options: { ...storageOptions, now: { type: 'boolean' } },
    async run(values, _positionals, output) {
      await withAdmin(values, async (admin) => {
        const key = await admin.keys.rotate({ now: values.now === true })
        const view = keyView(key, nowSeconds(systemClock), admin.config.tokens.maxTtl)
        output.result(view, () => details(view))
      })
    },
  },
}
