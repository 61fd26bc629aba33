import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export type LinkCheck = 'valid' | 'expired' | 'invalid';

/**
 * Signs download links the API serves itself (the local store cannot sign): an HMAC over the
 * artifact id and the expiry. Its key is derived from the server's secret key, so every API
 * node of a cluster accepts the links any of them issued.
 */
export class LinkSigner {
  private readonly key: Buffer;

  constructor(secretKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, '', 'webguard artifact links', 32));
  }

  sign(artifactId: number, expiresAtSeconds: number): string {
    return createHmac('sha256', this.key)
      .update(`${artifactId}:${expiresAtSeconds}`)
      .digest('base64url');
  }

  check(
    artifactId: number,
    expiresAtSeconds: number,
    signature: string,
    now = Date.now(),
  ): LinkCheck {
    const expected = Buffer.from(this.sign(artifactId, expiresAtSeconds));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return now > expiresAtSeconds * 1000 ? 'expired' : 'valid';
  }
}
