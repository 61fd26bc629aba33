import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailReceiver, type MailReceiver } from '../../test/support/mail-receiver.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';

/** Real receivers: an HTTP server for the webhook and Slack, an SMTP server for e-mail. */
let t: TestRuntime;
let http: Server;
let smtp: MailReceiver;
let base: string;
const SECRET = 'whsec-for-tests-0123456789';
const hooks: { headers: IncomingHttpHeaders; body: string }[] = [];
const slack: string[] = [];
let hookFailuresLeft = 1;

beforeAll(async () => {
  http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/slack') slack.push(body);
      else if (hookFailuresLeft > 0) {
        // The first delivery finds the receiver down: the queue must try again.
        hookFailuresLeft -= 1;
        return void response.writeHead(503).end('busy');
      } else hooks.push({ headers: request.headers, body });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  smtp = await startMailReceiver();
  t = await startTestRuntime({}, { workers: ['executions', 'api', 'notifications'] });
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

async function runToEnd(suiteId: number): Promise<number> {
  const id = (
    await t.inject({ method: 'POST', url: '/api/v1/executions', payload: { suite_id: suiteId } })
  ).json<{ execution_id: number }>().execution_id;
  await waitFor(
    async () =>
      (await t.inject(`/api/v1/executions/${id}`)).json<{ completed_at: string | null }>()
        .completed_at ?? undefined,
    { what: `execution ${id} to end` },
  );
  return id;
}

describe('notifications', () => {
  it('delivers a failing run to a signed webhook (retrying it), Slack and e-mail, then its recovery', async () => {
    const webhook = await channel({
      type: 'webhook',
      name: 'hook',
      url: `${base}/hook`,
      secret: SECRET,
    });
    const chat = await channel({ type: 'slack', name: 'chat', webhook_url: `${base}/slack` });
    const mail = await channel({
      type: 'email',
      name: 'team',
      smtp_url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'webguard@example.com',
      to: ['qa@example.com'],
    });
    // Secrets are sealed at rest and never listed.
    const stored = await t.runtime.database.db.execute(
      sql`SELECT secrets::text AS secrets FROM notification_channels WHERE id = ${webhook}`,
    );
    expect((stored as unknown as { rows: { secrets: string }[] }).rows[0]!.secrets).not.toContain(
      SECRET,
    );
    const listed = await t.inject('/api/v1/notification-channels');
    expect(listed.body).not.toContain(SECRET);
    expect(listed.body).not.toContain('/slack');

    const suiteId = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/suites',
        payload: { name: 'notified', retry_on_failure: false },
      })
    ).json<{ id: number }>().id;
    const caseId = (
      await t.inject({
        method: 'POST',
        url: `/api/v1/suites/${suiteId}/cases`,
        payload: { name: 'checkout', skill_name: 'fail', params: { message: 'cart total 3' } },
      })
    ).json<{ id: number }>().id;
    const rules = await t.inject({
      method: 'PUT',
      url: `/api/v1/suites/${suiteId}/notifications`,
      payload: {
        items: [
          { channel_id: webhook, rule: 'failure' },
          { channel_id: chat, rule: 'always' },
          { channel_id: mail, rule: 'failure' },
        ],
      },
    });
    expect(rules.statusCode, rules.body).toBe(200);

    const failed = await runToEnd(suiteId);
    const hook = await waitFor(async () => hooks[0], { what: 'the webhook', timeoutMs: 20_000 });
    const timestamp = String(hook.headers['x-webguard-timestamp']);
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${hook.body}`).digest('hex');
    expect(hook.headers['x-webguard-signature']).toBe(`sha256=${expected}`);
    expect(JSON.parse(hook.body)).toMatchObject({
      event: 'execution.finished',
      rule: 'failure',
      execution: { id: failed, suite_name: 'notified', status: 'failed' },
      failures: [{ test_name: 'checkout', error_message: expect.stringContaining('cart total 3') }],
    });
    const log = (await t.inject(`/api/v1/notification-channels/${webhook}/deliveries`)).json<{
      items: { status: string; attempts: number; execution_id: number }[];
    }>();
    expect(log.items[0]).toMatchObject({ execution_id: failed, status: 'delivered', attempts: 2 });

    await waitFor(async () => slack[0], { what: 'the Slack message' });
    expect(JSON.parse(slack[0]!).text).toContain('notified failed');
    const message = await waitFor(async () => smtp.mails[0], { what: 'the e-mail' });
    expect(message).toMatch(/^To: qa@example\.com/m);
    expect(message).toMatch(/^Subject: WebGuard: notified failed/m);

    // The case is fixed: the next run is a recovery, which the webhook now asks for.
    await t.inject({
      method: 'PATCH',
      url: `/api/v1/suites/${suiteId}/cases/${caseId}`,
      payload: { skill_name: 'echo', params: {} },
    });
    await t.inject({
      method: 'PUT',
      url: `/api/v1/suites/${suiteId}/notifications`,
      payload: { items: [{ channel_id: webhook, rule: 'recovery' }] },
    });
    const recovered = await runToEnd(suiteId);
    const second = await waitFor(async () => hooks[1], { what: 'the recovery webhook' });
    expect(JSON.parse(second.body)).toMatchObject({
      rule: 'recovery',
      execution: { id: recovered, status: 'passed' },
    });
    expect(smtp.mails).toHaveLength(1);
  });
});
