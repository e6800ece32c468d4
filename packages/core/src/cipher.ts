import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/*
 * AES-256-GCM under the master key, for what the server must recover: private signing keys
 * and the secrets of signature clients. `context` is bound as additional data so that a
 * ciphertext cannot be moved from one record to another.
 */
const VERSION = 'v1'

export class MasterKeyCipher {
  private readonly key: Buffer

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be exactly 32 bytes')
    this.key = key
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    cipher.setAAD(Buffer.from(context, 'utf8'))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return [
      VERSION,
      iv.toString('base64url'),
      body.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.')
  }

  decrypt(sealed: string, context: string): string {
    const [version, iv, body, tag] = sealed.split('.')
    if (version !== VERSION || !iv || body === undefined || !tag)
      throw new Error('unrecognised ciphertext format')
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      )
    } catch (cause) {
      throw new Error('cannot decrypt: wrong master key, or the data was altered', { cause })
    }
  }
}
