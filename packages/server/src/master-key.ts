import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MasterKeyMismatchError } from '@gatehouse/core'

export interface MasterKey {
  key: Buffer
  /** Where it came from: the environment, an existing file, or a file created just now. */
  source: 'env' | 'file' | 'created'
  path?: string
}

/**
 * The 32-byte key that seals private signing keys and signature-client secrets:
 * GATEHOUSE_MASTER_KEY (base64url) when set, else <data dir>/master.key (0600), created on
 * first use. Server and CLI find it the same way.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): MasterKey {
  const fromEnv = env.GATEHOUSE_MASTER_KEY
  if (fromEnv) return { key: decode(fromEnv, 'GATEHOUSE_MASTER_KEY'), source: 'env' }
  const path = join(dataDir, 'master.key')
  try {
    return { key: decode(readFileSync(path, 'utf8').trim(), path), source: 'file', path }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  // Written whole under a name of its own, then linked into place: a process that starts at the
  // same moment finds either no key or the whole key, never an empty file, and a crash leaves
  // no half-written one. link fails if another process put its key there first; then use theirs.
  const draft = join(dataDir, `.master.key.${process.pid}.${randomBytes(6).toString('hex')}`)
  writeFileSync(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  let source: MasterKey['source'] = 'created'
  try {
    linkSync(draft, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    source = 'file'
  } finally {
    unlinkSync(draft)
  }
  return { key: decode(readFileSync(path, 'utf8').trim(), path), source, path }
}

export function masterKeyMode(path: string): number {
  return statSync(path).mode & 0o777
}

function decode(text: string, from: string): Buffer {
  const key = Buffer.from(text, 'base64url')
  if (key.length !== 32 || !/^[A-Za-z0-9_-]+={0,2}$/.test(text)) {
    throw new Error(`the master key in ${from} must be 32 bytes in base64url (43 characters)`)
  }
  return key
}

/**
 * Runs `step` (a start-up or a check that opens the stored signing keys) and, when the master key
 * turns out not to be the one that sealed them, says where this one came from and what to do.
 * A key created just now for a storage that already had keys is wrong by construction, and is
 * removed again, so that the next attempt does not find it.
 */
export async function withMasterKey<T>(masterKey: MasterKey, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    if (!(error instanceof MasterKeyMismatchError)) throw error
    if (masterKey.source === 'created') rmSync(masterKey.path!, { force: true })
    throw new MasterKeyMismatchError(
      `${error.message}; ${advice(masterKey)} (if that key is lost: gatehouse keys rotate --now --lost-master-key)`,
    )
  }
}

function advice(masterKey: MasterKey): string {
  if (masterKey.source === 'env')
    return 'GATEHOUSE_MASTER_KEY holds another key: set it to the master key the server uses'
  if (masterKey.source === 'file')
    return `${masterKey.path} holds another key: use the master key the server uses (GATEHOUSE_MASTER_KEY, or its master.key)`
  return `there was no master key at ${masterKey.path} and GATEHOUSE_MASTER_KEY is not set: set it to the master key the server uses`
}
