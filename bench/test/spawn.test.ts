import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, launchedBy, startChild } from '../spawn.ts'

// A server that says how large V8 made its young generation, then answers the ready check.
const REPORTS_NEW_SPACE = `
const { getHeapSpaceStatistics } = require('node:v8')
const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')
console.log('new_space ' + newSpace.space_size)
require('node:http').createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')
`

test("a context's Node flags reach the server's Node, ahead of its script", async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-spawn-test-'))
  t.after(() => rmSync(workDir, { recursive: true, force: true }))
  const port = await freePort()
  const logFile = join(workDir, 'server.log')
  const child = await startChild({
    name: 'flags',
    args: ['-e', REPORTS_NEW_SPACE],
    env: { PORT: String(port) },
    logFile,
    readyUrl: `http://127.0.0.1:${port}/`,
    ...launchedBy({ workDir, nodeFlags: ['--min-semi-space-size=16'] }),
  })
  await child.stop()
  assert.match(readFileSync(logFile, 'utf8'), new RegExp(`^new_space ${16 * 1024 * 1024}$`, 'm'))
})
