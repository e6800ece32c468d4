// Dependencies point inward: core imports no framework, HTTP or SQL library and nothing from
// server; verify, which ships into other people's APIs, imports jose, Node built-ins and itself.
// Fails the build rather than a review.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const rules: { dir: string; forbidden: RegExp; why: string }[] = [
  {
    dir: 'packages/core/src',
    forbidden:
      /from '(fastify|pino|prom-client|pg|ioredis|node:sqlite|node:http|node:fs|@gatehouse\/server)[/']/,
    why: 'core knows nothing of HTTP, SQL, files or the server',
  },
  {
    dir: 'packages/verify/src',
    // An import or export statement (not a TSDoc example) of any package but jose and node:*,
    // or of a relative path into another package.
    forbidden: /^(import\b|export\b|\}).*from '((?!jose'|node:|\.)|[^']*\/(core|server|client)\/)/,
    why: 'verify depends on jose and Node built-ins only (no framework, no Gatehouse package)',
  },
]

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else if (path.endsWith('.ts')) yield path
  }
}

let failures = 0
for (const rule of rules) {
  for (const file of files(rule.dir)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (rule.forbidden.test(line)) {
          failures++
          console.error(`${file}:${index + 1}: ${line.trim()}  (${rule.why})`)
        }
      })
  }
}
if (failures > 0) process.exit(1)
console.log('boundaries: ok')
