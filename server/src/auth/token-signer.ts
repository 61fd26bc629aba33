import { hkdfSync } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/** Only this algorithm is accepted: a token naming another (or `none`) is refused. */
const ALGORITHM = 'HS256';
export const JWT_ISSUER = 'webguard';
export const JWT_AUDIENCE = 'webguard-api';

export type TokenUse = 'access' | 'refresh';

export interface VerifiedToken {
  userId: number;
  use: TokenUse;
  /** The token's id (`jti`); refresh tokens always carry one, so they can be revoked. */
  jti: string | undefined;
  /**
   * The sign-in session (refresh token family) an access token was issued in (`sid`), so signing
   * out ends it at once; absent in tokens issued before sessions were named.
   */
  sessionId: string | undefined;
}

/** Signs and checks the JWTs of signed-in users, keyed from the cluster's shared secret key. */
export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(
    secretKey: Buffer,
    private readonly ttl: { access: number; refresh: number },
  ) {
    // A key of its own, so a JWT key can never open sealed secrets or sign artifact links.
    this.key = new Uint8Array(hkdfSync('sha256', secretKey, '', 'webguard-jwt-v1', 32));
  }

  get accessTtl(): number {
    return this.ttl.access;
  }

  get refreshTtl(): number {
    return this.ttl.refresh;
  }

  sign(
    userId: number,
    use: TokenUse,
    ids: { jti?: string; sessionId?: string } = {},
  ): Promise<string> {
    const { jti, sessionId } = ids;
    const jwt = new SignJWT(sessionId === undefined ? { use } : { use, sid: sessionId });
    if (jti !== undefined) jwt.setJti(jti);
    return jwt
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttl[use]}s`)
      .sign(this.key);
  }

  /** The user a valid token of the expected use names; undefined for anything else. */
  async verify(token: string, use: TokenUse): Promise<VerifiedToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      const userId = Number(payload.sub);
      if (payload['use'] !== use || !Number.isSafeInteger(userId) || userId <= 0) return undefined;
      if (use === 'refresh' && typeof payload.jti !== 'string') return undefined;
      const sessionId = typeof payload['sid'] === 'string' ? payload['sid'] : undefined;
      return { userId, use, jti: payload.jti, sessionId };
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
}
