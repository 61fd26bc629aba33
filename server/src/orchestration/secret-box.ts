import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A secret as stored: AES-256-GCM ciphertext with its nonce and tag, base64. */
export interface SealedSecret {
  iv: string;
  tag: string;
  data: string;
}

/** Encrypts secrets at rest with one 32-byte key from config; GCM also detects tampering. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error(`the secret key must be 32 bytes, got ${key.length}`);
    this.key = key;
  }

  seal(plaintext: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  open(sealed: SealedSecret): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(sealed.data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new Error(
        'a stored secret could not be decrypted: WEBGUARD_SECRET_KEY differs from the key it was saved with',
      );
    }
  }
}
