import assert from 'node:assert/strict'
import { test } from 'node:test'
import { servingV8Flags } from '../src/cli/v8-flags.ts'

test('serve turns allocation-site pretenuring off unless the process was started with a choice of its own', () => {
  assert.deepEqual(servingV8Flags([]), ['--no-allocation-site-pretenuring'])
  assert.deepEqual(servingV8Flags(['--max-old-space-size=4096', '--cpu-prof']), [
    '--no-allocation-site-pretenuring',
  ])
  for (const chosen of [
    '--allocation-site-pretenuring',
    '--no-allocation-site-pretenuring',
    '--allocation_site_pretenuring',
    '--no_allocation_site_pretenuring',
  ]) {
    assert.deepEqual(servingV8Flags(['--cpu-prof', chosen]), [], chosen)
  }
  // A flag whose name only contains it is not a choice.
  assert.deepEqual(servingV8Flags(['--trace-allocation-site-pretenuring']), [
    '--no-allocation-site-pretenuring',
  ])
})
