import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/index.js';

/** Who is on the other end of a live connection. */
export interface LivePrincipal {
  /**
   * How it proved itself: the shared live token (sees every project), a signed-in user's access
   * token or an API token (see only their projects).
   */
  kind: 'shared-token' | 'open' | 'user' | 'token';
  name: string;
  /** For users and API tokens: what they may see, as on the REST API. */
  access?: Principal;
}

export type LiveAuthResult = { ok: true; principal: LivePrincipal } | { ok: false; error: string };

/** Decides whether a handshake's token may watch live data. */
export type LiveAuthenticator = (token: string | undefined) => Promise<LiveAuthResult>;

/** The token a client sent: `auth: { token }` in the handshake, or an `Authorization: Bearer` header. */
export function handshakeToken(handshake: {
  auth: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}): string | undefined {
  const fromAuth = handshake.auth.token;
  if (typeof fromAuth === 'string' && fromAuth !== '') return fromAuth;
  const header = handshake.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The one check every live connection passes: the shared `WEBGUARD_LIVE_TOKEN` when one is set,
 * or the same credentials as the REST API (an access token or an API token), checked by
 * `verify`. Without `verify` and without a shared token, live data is open.
 */
export function sharedTokenAuthenticator(
  sharedToken: string | undefined,
  verify?: (token: string) => Promise<Principal>,
): LiveAuthenticator {
  return async (token) => {
    if (sharedToken === undefined && verify === undefined)
      return { ok: true, principal: { kind: 'open', name: 'anonymous' } };
    if (token === undefined)
      return {
        ok: false,
        error:
          'live data needs a token: send an access token or API token (or WEBGUARD_LIVE_TOKEN) as auth.token in the handshake',
      };
    if (sharedToken !== undefined && sameSecret(token, sharedToken))
      return { ok: true, principal: { kind: 'shared-token', name: 'live-token' } };
    if (verify === undefined) return { ok: false, error: 'the live token is not valid' };
    try {
      const access = await verify(token);
      return { ok: true, principal: { kind: access.kind, name: access.name, access } };
    } catch (error) {
      return {
        ok: false,
        error: `the token is not valid: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  };
}
