import { hkdfSync } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenPair } from '@webguard/shared';
import { startTestRuntime, TEST_ADMIN, type TestRuntime } from '../../test/support/test-runtime.js';
import { JWT_AUDIENCE, JWT_ISSUER } from './token-signer.js';

/** Refresh-token rotation, reuse detection, sign-out, expiry and revocation on account changes. */
let t: TestRuntime;
let sql: pg.Client;

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.runtime.app!.inject({ method: 'POST', url, payload, headers });

async function login(email = TEST_ADMIN.email, password = TEST_ADMIN.password): Promise<TokenPair> {
  const response = await post('/api/v1/auth/login', { email, password });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<TokenPair>();
}

const GRACE_SECONDS = 3;
const pastGrace = () => new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 200));

/** `GET /auth/me` with an access token: its status code. */
const me = async (accessToken: string) =>
  (
    await t.runtime.app!.inject({
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${accessToken}` },
    })
  ).statusCode;

const refresh = (token: string) => post('/api/v1/auth/refresh', { refresh_token: token });
const logout = (token: string) => post('/api/v1/auth/logout', { refresh_token: token });

beforeAll(async () => {
  // A limit no test here reaches: these tests refresh far more often than a person would. A
  // grace of 3 s for refreshes that race, so a replay can be told from a race without waiting 10.
  t = await startTestRuntime(
    { WEBGUARD_LOGIN_RATE_LIMIT: '1000', WEBGUARD_REFRESH_REUSE_GRACE: String(GRACE_SECONDS) },
    { workers: [] },
  );
  sql = new pg.Client({ connectionString: t.database.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await t?.stop();
});

describe('refresh tokens', () => {
  it('rotate: each refresh answers a new pair and the token sent stops working', async () => {
    const first = await login();
    const second = await refresh(first.refresh_token);
    expect(second.statusCode, second.body).toBe(200);
    const pair = second.json<TokenPair>();
    expect(pair.refresh_token).not.toBe(first.refresh_token);
    const me = await t.runtime.app!.inject({
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(me.statusCode).toBe(200);
    const third = await refresh(pair.refresh_token);
    expect(third.statusCode, third.body).toBe(200);

    const { rows } = await sql.query<{ revoked_reason: string | null }>(
      'SELECT revoked_reason FROM refresh_tokens WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE jti = $1) ORDER BY created_at',
      [decodeJwt(first.refresh_token).jti],
    );
    expect(rows.map((row) => row.revoked_reason)).toEqual(['rotated', 'rotated', null]);
  });

  it('revoke the whole session when a rotated token is presented again', async () => {
    const stolen = await login();
    const other = await login();
    const legitimate = (await refresh(stolen.refresh_token)).json<TokenPair>();
    await pastGrace();

    const replay = await refresh(stolen.refresh_token);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.message).toMatch(/sign in again/);
    // The holder of the newest token in that session is signed out too: either may be the thief.
    expect((await refresh(legitimate.refresh_token)).statusCode).toBe(401);
    expect(await me(legitimate.access_token)).toBe(401);
    // Another sign-in of the same user is a session of its own and keeps working.
    expect(await me(other.access_token)).toBe(200);
    expect((await refresh(other.refresh_token)).statusCode).toBe(200);
  });

  it('answer two refreshes of one session at once (two tabs) with its one live token', async () => {
    const session = await login();
    const [first, second] = await Promise.all([
      refresh(session.refresh_token),
      refresh(session.refresh_token),
    ]);
    expect(first!.statusCode, first!.body).toBe(200);
    expect(second!.statusCode, second!.body).toBe(200);
    const jtis = [first!, second!].map(
      (response) => decodeJwt(response.json<TokenPair>().refresh_token).jti,
    );
    expect(jtis[0]).toBe(jtis[1]);
    // Both tabs go on: one refreshes next, and the other, racing it a moment later, follows.
    const next = await refresh(first!.json<TokenPair>().refresh_token);
    expect(next.statusCode, next.body).toBe(200);
    const follower = await refresh(second!.json<TokenPair>().refresh_token);
    expect(follower.statusCode, follower.body).toBe(200);
    expect(decodeJwt(follower.json<TokenPair>().refresh_token).jti).toBe(
      decodeJwt(next.json<TokenPair>().refresh_token).jti,
    );
    const { rows } = await sql.query<{ live: string }>(
      'SELECT count(*) AS live FROM refresh_tokens WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE jti = $1) AND revoked_at IS NULL',
      [decodeJwt(session.refresh_token).jti],
    );
    expect(rows[0]!.live).toBe('1');
  });

  it('refuse a token rotated moments ago once its session was signed out', async () => {
    const session = await login();
    const rotated = (await refresh(session.refresh_token)).json<TokenPair>();
    expect((await logout(rotated.refresh_token)).statusCode).toBe(204);
    expect((await refresh(session.refresh_token)).statusCode).toBe(401);
  });

  it('end the session on logout', async () => {
    const session = await login();
    const rotated = (await refresh(session.refresh_token)).json<TokenPair>();
    expect(await me(session.access_token)).toBe(200);
    const out = await logout(rotated.refresh_token);
    expect(out.statusCode, out.body).toBe(204);
    expect((await refresh(rotated.refresh_token)).statusCode).toBe(401);
    // Both access tokens of the session end with it, not minutes later.
    for (const accessToken of [session.access_token, rotated.access_token]) {
      const refused = await t.runtime.app!.inject({
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.message).toMatch(/sign-in session has ended/);
    }
    // Signing out twice is harmless.
    expect((await logout(rotated.refresh_token)).statusCode).toBe(204);
    const bad = await logout('not-a-token');
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.message).toMatch(/no session to end/);
    // An access token cannot stand in for a refresh token.
    expect((await logout(session.access_token)).statusCode).toBe(401);
  });

  it('stop working when they expire, by their claim or by the server’s record', async () => {
    const session = await login();
    const { jti, sub } = decodeJwt(session.refresh_token);
    // The server's own key, derived as the server does, so only the expiry is wrong.
    const key = new Uint8Array(
      hkdfSync('sha256', Buffer.from(t.env.WEBGUARD_SECRET_KEY!, 'hex'), '', 'webguard-jwt-v1', 32),
    );
    const expired = await new SignJWT({ use: 'refresh' })
      .setProtectedHeader({ alg: 'HS256' })
      .setJti(jti!)
      .setSubject(sub!)
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    expect((await refresh(expired)).statusCode).toBe(401);

    await sql.query(
      "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE jti = $1",
      [jti],
    );
    expect((await refresh(session.refresh_token)).statusCode).toBe(401);
  });

  it('are all revoked when a user’s password changes or the user is disabled', async () => {
    const email = 'rotating@webguard.test';
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email, password: 'first-password-123' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const userId = created.json<{ id: number }>().id;

    const own = await login(email, 'first-password-123');
    const changed = await post(
      '/api/v1/auth/password',
      { current_password: 'first-password-123', new_password: 'second-password-456' },
      { authorization: `Bearer ${own.access_token}` },
    );
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await refresh(own.refresh_token)).statusCode).toBe(401);
    expect(await me(own.access_token)).toBe(401);

    const beforeReset = await login(email, 'second-password-456');
    const reset = await t.inject({
      method: 'PATCH',
      url: `/api/v1/users/${userId}`,
      payload: { password: 'third-password-789' },
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect((await refresh(beforeReset.refresh_token)).statusCode).toBe(401);

    const beforeDisable = await login(email, 'third-password-789');
    const disabled = await t.inject({
      method: 'PATCH',
      url: `/api/v1/users/${userId}`,
      payload: { disabled: true },
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect((await refresh(beforeDisable.refresh_token)).statusCode).toBe(401);
    // Enabling the account again does not bring old sessions back.
    await t.inject({
      method: 'PATCH',
      url: `/api/v1/users/${userId}`,
      payload: { disabled: false },
    });
    expect((await refresh(beforeDisable.refresh_token)).statusCode).toBe(401);
  });
});
