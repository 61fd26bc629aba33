import { hkdfSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { SignJWT, UnsecuredJWT } from 'jose';
import { io } from 'socket.io-client';
import { LIVE_NAMESPACE, type LiveAck } from '@webguard/shared';
import { closedPort } from '../../test/support/closed-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, TEST_ADMIN, type TestRuntime } from '../../test/support/test-runtime.js';
import { JWT_AUDIENCE, JWT_ISSUER } from './token-signer.js';

/** Roles, project scope and token lifecycle, against a real runtime with no workers. */
let t: TestRuntime;
let other: TestRuntime | undefined;
let suiteA: number;
let suiteB: number;
let projectB: number;
let executionB: number;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Calls the app with exactly these headers, bypassing the test's admin credential. */
const as = (headers: Record<string, string>, method: string, url: string, payload?: object) =>
  t.runtime.app!.inject({ method: method as 'GET', url, headers, payload });

async function login(email: string, password: string) {
  const response = await as({}, 'POST', '/api/v1/auth/login', { email, password });
  return response;
}

beforeAll(async () => {
  t = await startTestRuntime(
    {
      WEBGUARD_LOGIN_RATE_LIMIT: '8',
      WEBGUARD_CORS_ORIGINS: 'https://app.example.com',
      HOST: '127.0.0.1',
      PORT: String(await closedPort()),
    },
    { workers: [], listen: true },
  );
  const project = await t.inject({
    method: 'POST',
    url: '/api/v1/projects',
    payload: { slug: 'billing', name: 'Billing' },
  });
  expect(project.statusCode, project.body).toBe(201);
  projectB = project.json<{ id: number }>().id;
  suiteA = (
    await t.inject({ method: 'POST', url: '/api/v1/suites', payload: { name: 'a' } })
  ).json<{
    id: number;
  }>().id;
  suiteB = (
    await t.inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name: 'b', project_id: projectB },
    })
  ).json<{ id: number }>().id;
  for (const suite of [suiteA, suiteB])
    await t.inject({
      method: 'POST',
      url: `/api/v1/suites/${suite}/cases`,
      payload: { name: 'echo', skill_name: 'echo' },
    });
  const run = await t.inject({
    method: 'POST',
    url: '/api/v1/executions',
    payload: { suite_id: suiteB },
  });
  executionB = run.json<{ execution_id: number }>().execution_id;
});

afterAll(async () => {
  await other?.stop();
  await t?.stop();
});

describe('authentication', () => {
  it('refuses calls without credentials and keeps health checks open', async () => {
    const anonymous = await as({}, 'GET', '/api/v1/suites');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('UNAUTHORIZED');
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await as({}, 'GET', '/healthz')).statusCode).toBe(200);
  });

  it('sends security headers and answers CORS only for allowed origins', async () => {
    const health = await as({}, 'GET', '/healthz');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['strict-transport-security']).toBeDefined();
    const preflight = (origin: string) =>
      as(
        {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
        'OPTIONS',
        '/api/v1/executions',
      );
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-headers']).toContain('authorization');
    const other = await preflight('https://evil.example.com');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('signs in, refreshes and says who is calling', async () => {
    expect((await login(TEST_ADMIN.email, 'wrong-password')).statusCode).toBe(401);
    const pair = (await login(TEST_ADMIN.email.toUpperCase(), TEST_ADMIN.password)).json<{
      access_token: string;
      refresh_token: string;
      token_type: string;
    }>();
    expect(pair.token_type).toBe('Bearer');
    // A refresh token is not an access token.
    expect((await as(bearer(pair.refresh_token), 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
    const refreshed = await as({}, 'POST', '/api/v1/auth/refresh', {
      refresh_token: pair.refresh_token,
    });
    expect(refreshed.statusCode).toBe(200);
    const me = await as(bearer(refreshed.json().access_token), 'GET', '/api/v1/auth/me');
    expect(me.json()).toMatchObject({
      kind: 'user',
      user: { email: TEST_ADMIN.email, is_admin: true },
    });
  });

  it('rejects unsigned and wrong-audience JWTs', async () => {
    const adminId = (await t.inject('/api/v1/auth/me')).json().user.id as number;
    const unsigned = new UnsecuredJWT({ use: 'access' })
      .setSubject(String(adminId))
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    expect((await as(bearer(unsigned), 'GET', '/api/v1/suites')).statusCode).toBe(401);

    // The server's own key, derived as the server does, so only the audience is wrong.
    const key = new Uint8Array(
      hkdfSync('sha256', Buffer.from(t.env.WEBGUARD_SECRET_KEY!, 'hex'), '', 'webguard-jwt-v1', 32),
    );
    const signed = (audience: string) =>
      new SignJWT({ use: 'access' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(adminId))
        .setIssuer(JWT_ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
    expect((await as(bearer(await signed('elsewhere')), 'GET', '/api/v1/suites')).statusCode).toBe(
      401,
    );
    expect((await as(bearer(await signed(JWT_AUDIENCE)), 'GET', '/api/v1/suites')).statusCode).toBe(
      200,
    );
  });
});

describe('roles and project scope', () => {
  it('lets a viewer look but not trigger, and hides other projects', async () => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        email: 'viewer@example.com',
        password: 'viewer-password-1',
        memberships: [{ project_id: 1, role: 'viewer' }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const before = bearer(
      (await login('viewer@example.com', 'viewer-password-1')).json().access_token as string,
    );
    // Anyone may change their own password, knowing the current one.
    const change = (current: string) =>
      as(before, 'POST', '/api/v1/auth/password', {
        current_password: current,
        new_password: 'viewer-password-2',
      });
    expect((await change('not-it')).statusCode).toBe(400);
    expect((await change('viewer-password-1')).statusCode).toBe(204);
    // The change ends every sign-in, this one included.
    expect((await as(before, 'GET', `/api/v1/suites/${suiteA}`)).statusCode).toBe(401);
    const signedIn = await login('viewer@example.com', 'viewer-password-2');
    expect(signedIn.statusCode).toBe(200);
    const viewer = bearer(signedIn.json().access_token as string);
    expect((await as(viewer, 'GET', `/api/v1/suites/${suiteA}`)).statusCode).toBe(200);
    const trigger = await as(viewer, 'POST', '/api/v1/executions', { suite_id: suiteA });
    expect(trigger.statusCode).toBe(403);
    expect(trigger.json().error.code).toBe('FORBIDDEN');
    expect((await as(viewer, 'GET', `/api/v1/suites/${suiteB}`)).statusCode).toBe(404);
    expect((await as(viewer, 'GET', `/api/v1/executions/${executionB}`)).statusCode).toBe(404);
    expect((await as(viewer, 'GET', '/api/v1/users')).statusCode).toBe(403);
    // A viewer cannot mint a token with more rights than it has.
    const escalate = await as(viewer, 'POST', '/api/v1/auth/tokens', {
      name: 'sneaky',
      project_id: 1,
      role: 'tester',
    });
    expect(escalate.statusCode).toBe(403);
  });

  it('scopes a CI token to its project, and revoked or expired tokens stop working', async () => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/tokens',
      payload: { name: 'ci', project_id: 1, role: 'tester' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { token, id } = created.json<{ token: string; id: number }>();
    expect(token).toMatch(/^wgt_/);
    const ci = bearer(token);

    expect((await as(ci, 'POST', '/api/v1/executions', { suite_name: 'a' })).statusCode).toBe(202);
    expect((await as(ci, 'POST', '/api/v1/executions', { suite_id: suiteB })).statusCode).toBe(404);
    expect((await as(ci, 'POST', '/api/v1/executions', { suite_name: 'b' })).statusCode).toBe(404);
    expect((await as(ci, 'GET', `/api/v1/executions/${executionB}`)).statusCode).toBe(404);
    const listed = (await as(ci, 'GET', '/api/v1/executions')).json<{
      items: { suite_id: number }[];
    }>();
    expect(listed.items.map((item) => item.suite_id)).toEqual([suiteA]);
    // Tokens cannot mint tokens.
    expect(
      (await as(ci, 'POST', '/api/v1/auth/tokens', { name: 'x', project_id: 1 })).statusCode,
    ).toBe(403);

    const tokens = (await t.inject('/api/v1/auth/tokens')).json<{
      items: { id: number; last_used_at: string | null; token?: string }[];
    }>();
    const listedToken = tokens.items.find((item) => item.id === id)!;
    expect(listedToken.last_used_at).not.toBeNull();
    expect(listedToken.token).toBeUndefined();

    expect(
      (await t.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}` })).statusCode,
    ).toBe(200);
    const revoked = await as(ci, 'GET', '/api/v1/suites');
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.message).toMatch(/revoked/);

    const expiring = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/auth/tokens',
        payload: { name: 'short', project_id: 1, role: 'viewer', expires_in_days: 1 },
      })
    ).json<{ token: string; id: number }>();
    expect((await as(bearer(expiring.token), 'GET', '/api/v1/suites')).statusCode).toBe(200);
    await t.runtime.database.db.execute(
      sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${expiring.id}`,
    );
    const expired = await as(bearer(expiring.token), 'GET', '/api/v1/suites');
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toMatch(/expired/);
  });
});

describe('live connections', () => {
  /** Connects to /live with exactly this handshake token; resolves the ack of a subscribe. */
  async function watch(token: string | undefined, executionId: number) {
    const socket = io(`${t.runtime.url}${LIVE_NAMESPACE}`, {
      transports: ['websocket'],
      auth: token === undefined ? {} : { token },
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return (await socket.emitWithAck('run:subscribe', {
        execution_id: executionId,
      })) as LiveAck;
    } finally {
      socket.disconnect();
    }
  }

  it('refuses a socket without a token and hides other projects’ runs', async () => {
    await expect(watch(undefined, executionB)).rejects.toThrow(/needs a token/);
    await expect(watch('wgt_forged', executionB)).rejects.toThrow(/not valid/);
    const { token } = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/auth/tokens',
        payload: { name: 'live', project_id: 1, role: 'viewer' },
      })
    ).json<{ token: string }>();
    expect(await watch(token, executionB)).toEqual({
      ok: false,
      error: `execution ${executionB} was not found`,
    });
    const admin = t.authHeaders().authorization!.slice('Bearer '.length);
    expect(await watch(admin, executionB)).toMatchObject({ ok: true });
  });
});

describe('rate limits', () => {
  it('counts login attempts across API processes sharing Redis', async () => {
    other = await startTestRuntime(
      {
        DATABASE_URL: t.env.DATABASE_URL!,
        WEBGUARD_QUEUE_PREFIX: t.env.WEBGUARD_QUEUE_PREFIX!,
        WEBGUARD_LOGIN_RATE_LIMIT: '8',
      },
      { workers: [] },
    );
    const apps = [t.runtime.app!, other.runtime.app!];
    const statuses: number[] = [];
    // A client address of its own, so the count starts at zero whatever signed in before.
    for (let attempt = 0; attempt < 9; attempt += 1) {
      const response = await apps[attempt % 2]!.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.0.0.7',
        payload: { email: TEST_ADMIN.email, password: 'guessing' },
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        expect(response.json().error.code).toBe('RATE_LIMITED');
        expect(response.headers['retry-after']).toBeDefined();
        break;
      }
    }
    // Each process alone would allow 8 a minute (5 attempts each here); the limit is shared.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429]);
  });
});
