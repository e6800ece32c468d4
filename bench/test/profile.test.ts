import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CpuProfile, renderProfiles, selfTimes } from '../profile.ts'

const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber })

test('selfTimes charges each sample the time since the one before, inside the window only', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('commit', 'file:///work/src/sqlite/group-commit.ts', 64) },
      { id: 3, callFrame: frame('', 'file:///work/src/http/json.ts', 8) },
      { id: 4, callFrame: frame('(idle)') },
    ],
    startTime: 1000,
    samples: [1, 2, 2, 3, 4, 2],
    // Sample times 1000, 1100, 1200, 1250, 1450, 1550.
    timeDeltas: [0, 100, 100, 50, 200, 100],
  }
  const self = selfTimes(profile, 1100, 1450)
  assert.deepEqual(Object.fromEntries(self), {
    'commit sqlite/group-commit.ts:65': 200,
    '(anonymous) http/json.ts:9': 50,
    '(idle)': 200,
  })
})

test('renderProfiles puts each row beside the first, busy time without idle, and each difference signed', () => {
  const row = (name: 'standard' | 'signature', entries: [string, number][]) => ({
    row: name,
    perRequest: new Map(entries),
    rps: 1000,
  })
  const text = renderProfiles(
    'EdDSA',
    [
      row('standard', [
        ['(idle)', 10],
        ['writeUtf8String', 5],
        ['parseForm', 0.4],
      ]),
      row('signature', [
        ['(idle)', 12],
        ['writeUtf8String', 4.5],
        ['commit', 2.1],
      ]),
    ],
    2,
    8,
  )
  const line = (label: string) => text.split('\n').find((l) => l.startsWith(label))
  assert.match(text, /signature − standard/)
  assert.match(line('busy (every function)') ?? '', /5\.40\s+6\.60\s+\+1\.20$/)
  assert.match(line('idle') ?? '', /10\.00\s+12\.00\s+\+2\.00$/)
  assert.match(line('writeUtf8String') ?? '', /5\.00\s+4\.50\s+−0\.50$/)
  assert.match(line('commit') ?? '', /0\.00\s+2\.10\s+\+2\.10$/)
  // Only the top two by figure or difference: parseForm (0.4) is left out.
  assert.equal(line('parseForm'), undefined)
})
