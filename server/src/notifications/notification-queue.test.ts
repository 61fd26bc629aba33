import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDelivery } from '@webguard/shared';
import { createLogger } from '../runtime/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';
import { EXECUTIONS_QUEUE, NOTIFICATIONS_QUEUE } from '../queues/job-catalog.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';

/**
 * Notifications have a queue of their own: runs finish with no notification worker at all, and
 * a process serving only that queue delivers what they left.
 */
let t: TestRuntime;
let notifier: Runtime | undefined;
let http: Server;
let base: string;
const received: string[] = [];

beforeAll(async () => {
  http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(body);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // Orchestration and API cases only: nothing here works on the notifications queue.
  t = await startTestRuntime({}, { workers: [EXECUTIONS_QUEUE, 'api'] });
});

afterAll(async () => {
  await notifier?.close();
  await t?.stop();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
});

describe('the notifications queue', () => {
  it('holds notification jobs apart from the runs, for workers of its own', async () => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { type: 'webhook', name: 'hook', url: `${base}/hook`, secret: 'x'.repeat(16) },
    });
    expect(created.statusCode, created.body).toBe(201);
    const channelId = created.json<{ id: number }>().id;
    const suiteId = await t.suiteWith({ name: 'notified' }, [{ name: 'echo', skill_name: 'echo' }]);
    const rules = await t.inject({
      method: 'PUT',
      url: `/api/v1/suites/${suiteId}/notifications`,
      payload: { items: [{ channel_id: channelId, rule: 'always' }] },
    });
    expect(rules.statusCode, rules.body).toBe(200);

    const executionId = (
      await t.inject({ method: 'POST', url: '/api/v1/executions', payload: { suite_id: suiteId } })
    ).json<{ execution_id: number }>().execution_id;
    const { status } = await waitFor(
      async () => {
        const execution = (await t.inject(`/api/v1/executions/${executionId}`)).json<{
          status: string;
          completed_at: string | null;
        }>();
        return execution.completed_at ? execution : undefined;
      },
      { what: `execution ${executionId} to end` },
    );
    expect(status).toBe('passed');

    const notifications = t.runtime.queues.queue(NOTIFICATIONS_QUEUE);
    const waiting = await waitFor(
      async () => {
        const jobs = await notifications.getJobs(['waiting']);
        return jobs.length > 0 ? jobs : undefined;
      },
      { what: 'the notify job on the notifications queue' },
    );
    expect(waiting.map((job) => job.name)).toEqual(['notify-execution']);
    const onExecutions = await t.runtime.queues
      .queue(EXECUTIONS_QUEUE)
      .getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    expect(onExecutions.map((job) => job.name)).not.toContain('notify-execution');
    expect(received).toEqual([]);

    // A process serving only the notifications queue, on the same database and Redis.
    notifier = await startRuntime(
      t.config,
      { api: false, workers: [NOTIFICATIONS_QUEUE], listen: false },
      createLogger(t.config, 'notifier'),
    );
    const delivered = await waitFor(
      async () => {
        const items = (
          await t.inject(`/api/v1/notification-channels/${channelId}/deliveries`)
        ).json<{ items: NotificationDelivery[] }>().items;
        return items[0]?.status === 'delivered' ? items[0] : undefined;
      },
      { what: 'the delivery through the notifications worker' },
    );
    expect(delivered.execution_id).toBe(executionId);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!)).toMatchObject({
      event: 'execution.finished',
      execution: { id: executionId },
    });
  });
});
