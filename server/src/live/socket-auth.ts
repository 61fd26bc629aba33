import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Who is on the other end of a live connection. */
export interface LivePrincipal {
  /** How it proved itself: the shared live token, or nothing because none is configured. */
  kind: 'shared-token' | 'open';
  name: string;
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
 * The one check every live connection passes. With `WEBGUARD_LIVE_TOKEN` set the client must
 * send it; without, live data is as open as the REST API.
 */
export function sharedTokenAuthenticator(sharedToken: string | undefined): LiveAuthenticator {
  return (token) => {
    if (sharedToken === undefined)
      return Promise.resolve({ ok: true, principal: { kind: 'open', name: 'anonymous' } });
    if (token === undefined)
      return Promise.resolve({
        ok: false,
        error: 'live data needs a token: send WEBGUARD_LIVE_TOKEN as auth.token in the handshake',
      });
    if (!sameSecret(token, sharedToken))
      return Promise.resolve({ ok: false, error: 'the live token is not valid' });
    return Promise.resolve({ ok: true, principal: { kind: 'shared-token', name: 'live-token' } });
  };
}
