import { nowSeconds, systemClock } from '@gatehouse/core'
import { withAdmin } from './clients.ts'
import { type Command, storageOptions } from './command.ts'
import { UsageError } from './errors.ts'
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
    usage: 'keys rotate [--now] [--lost-master-key]',
    summary:
      'publish a new key that signs after the lead time (--now: at once, for a compromised key; add --lost-master-key to replace keys whose master key is lost)',
    positionals: 0,
    options: { ...storageOptions, now: { type: 'boolean' }, 'lost-master-key': { type: 'boolean' } },
    async run(values, _positionals, output) {
      const lost = values['lost-master-key'] === true
      if (lost && values.now !== true)
        throw new UsageError('--lost-master-key needs --now: no stored key can sign until the new one does')
      await withAdmin(
        values,
        async (admin) => {
          // The servers' algorithm, not this command's config: a CLI run without the server's
          // --config would otherwise bring in its default. A server changes algorithm at start.
          const algorithm = await admin.keys.algorithmInUse()
          const key = await admin.keys.rotate({ now: values.now === true, algorithm })
          const view = keyView(key, nowSeconds(systemClock), admin.config.tokens.maxTtl)
          output.result(view, () => details(view))
        },
        // The one write that a master key that opens no stored key may make: the key that replaces them.
        { checkMasterKey: !lost },
      )
    },
  },
}
