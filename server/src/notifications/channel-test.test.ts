import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelTestResult, NotificationDelivery } from '@webguard/shared';
import { CHANNEL_TESTS_PER_MINUTE } from '../api/plugins/hardening.js';
import { closedPort } from '../../test/support/closed-port.js';
import { startMailReceiver, type MailReceiver } from '../../test/support/mail-receiver.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';

/** "Send a test message" against real receivers, with no worker: the API sends it itself. */
let t: TestRuntime;
let http: Server;
let smtp: MailReceiver;
let base: string;
const SECRET = 'whsec-for-channel-tests-0123';
const hooks: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/broken') return void response.writeHead(500).end('boom');
      hooks.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  smtp = await startMailReceiver();
  t = await startTestRuntime({}, { workers: [] });
});

afterAll(async () => {
  await t?.stop();
  await smtp?.close();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
});

async function channel(payload: object): Promise<number> {
  const created = await t.inject({ method: 'POST', url: '/api/v1/notification-channels', payload });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ id: number }>().id;
}

async function sendTest(id: number): Promise<ChannelTestResult> {
  const response = await t.inject({
    method: 'POST',
    url: `/api/v1/notification-channels/${id}/test`,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<ChannelTestResult>();
}

/**
 * A new user with `role` in the default project, signed in: sends test messages as that user
 * and answers the raw response.
 */
async function sendTestAs(email: string, role: 'viewer' | 'tester') {
  const user = { email, password: `${role}-password-123` };
  const created = await t.inject({
    method: 'POST',
    url: '/api/v1/users',
    payload: { ...user, memberships: [{ project_id: 1, role }] },
  });
  expect(created.statusCode, created.body).toBe(201);
  const login = await t.runtime.app!.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: user,
  });
  const headers = {
    authorization: `Bearer ${login.json<{ access_token: string }>().access_token}`,
  };
  return (channelId: number) =>
    t.runtime.app!.inject({
      method: 'POST',
      url: `/api/v1/notification-channels/${channelId}/test`,
      headers,
    });
}

async function log(id: number): Promise<NotificationDelivery[]> {
  return (await t.inject(`/api/v1/notification-channels/${id}/deliveries`)).json<{
    items: NotificationDelivery[];
  }>().items;
}

describe('sending a test message', () => {
  it('delivers a signed sample to a webhook and logs it', async () => {
    const id = await channel({
      type: 'webhook',
      name: 'hook',
      url: `${base}/hook`,
      secret: SECRET,
    });
    const result = await sendTest(id);
    expect(result).toMatchObject({ delivered: true, error: null, response_status: 204 });

    expect(hooks).toHaveLength(1);
    const [hook] = hooks;
    const timestamp = String(hook!.headers['x-webguard-timestamp']);
    const expected = createHmac('sha256', SECRET)
      .update(`${timestamp}.${hook!.body}`)
      .digest('hex');
    expect(hook!.headers['x-webguard-signature']).toBe(`sha256=${expected}`);
    expect(hook!.headers['x-webguard-event']).toBe('channel.test');
    expect(hook!.headers['x-webguard-delivery']).toBe(String(result.delivery_id));
    expect(JSON.parse(hook!.body)).toMatchObject({ event: 'channel.test', rule: 'test' });

    expect(await log(id)).toEqual([
      expect.objectContaining({
        id: result.delivery_id,
        execution_id: null,
        rule: 'test',
        status: 'delivered',
        attempts: 1,
        response_status: 204,
      }),
    ]);
  });

  it('answers the receiver’s refusal and logs it as failed, with no retry', async () => {
    const broken = await channel({
      type: 'webhook',
      name: 'broken',
      url: `${base}/broken`,
      secret: SECRET,
    });
    expect(await sendTest(broken)).toMatchObject({
      delivered: false,
      error: 'answered 500',
      response_status: 500,
    });
    expect(await log(broken)).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 1, last_error: 'answered 500' }),
    ]);

    const down = await channel({
      type: 'slack',
      name: 'down',
      webhook_url: `http://127.0.0.1:${await closedPort()}/services/x`,
    });
    expect(await sendTest(down)).toMatchObject({
      delivered: false,
      error: 'ECONNREFUSED',
      response_status: null,
    });
  });

  it('sends e-mail through the SMTP server and reports what it refused', async () => {
    const mail = await channel({
      type: 'email',
      name: 'team',
      smtp_url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'webguard@example.com',
      to: ['qa@example.com'],
    });
    expect(await sendTest(mail)).toMatchObject({ delivered: true, error: null });
    expect(smtp.mails.at(-1)).toMatch(/Subject: WebGuard test message/);

    const refused = await channel({
      type: 'email',
      name: 'nobody',
      smtp_url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'webguard@example.com',
      to: ['ghost@nowhere.example'],
    });
    const result = await sendTest(refused);
    expect(result.delivered).toBe(false);
    expect(result.error).toMatch(/mailbox unavailable/);
  });

  it('is for those who may edit the channel: 403 for a viewer, 404 for another project', async () => {
    const id = await channel({
      type: 'webhook',
      name: 'roles',
      url: `${base}/hook`,
      secret: SECRET,
    });
    const other = await t.inject({
      method: 'POST',
      url: '/api/v1/projects',
      payload: { slug: 'elsewhere', name: 'Elsewhere' },
    });
    const asViewer = await sendTestAs('viewer@webguard.test', 'viewer');
    expect((await asViewer(id)).statusCode).toBe(403);

    const hidden = await channel({
      type: 'webhook',
      name: 'hidden',
      project_id: other.json<{ id: number }>().id,
      url: `${base}/hook`,
      secret: SECRET,
    });
    expect((await asViewer(hidden)).statusCode).toBe(404);
    expect((await asViewer(999_999)).statusCode).toBe(404);
  });

  it('refuses a caller more than its test messages per minute, with a 429 that says so', async () => {
    const id = await channel({
      type: 'webhook',
      name: 'limited',
      url: `${base}/limited`,
      secret: SECRET,
    });
    const asTester = await sendTestAs('tester@webguard.test', 'tester');
    const send = () => asTester(id);
    for (let sent = 0; sent < CHANNEL_TESTS_PER_MINUTE; sent++) {
      const response = await send();
      expect(response.statusCode, response.body).toBe(200);
    }
    const refused = await send();
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({
      error: { code: 'RATE_LIMITED', message: expect.stringMatching(/at most 10 per minute/) },
    });
    // Another caller still has its own allowance.
    expect(
      (await t.inject({ method: 'POST', url: `/api/v1/notification-channels/${id}/test` }))
        .statusCode,
    ).toBe(200);
  });
});
