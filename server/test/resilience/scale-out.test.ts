import { sql } from 'drizzle-orm';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIVE_NAMESPACE,
  type LiveAck,
  type LiveClientToServerEvents,
  type LiveServerToClientEvents,
  type RunEvent,
} from '@webguard/shared';
import { freePort } from '../support/redis-helpers.js';
import { RoleProcesses, type RoleProcess } from '../support/processes.js';
import { signInOverHttp, startTestRuntime, type TestRuntime } from '../support/test-runtime.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Scale-out on one machine: two API processes and three worker processes, each its own OS
 * process and port, on one Redis and one PostgreSQL, run a 300-case suite.
 */
const CASES = 300;
const LIVE_TOKEN = 'scale-out-live-token-for-tests';
let t: TestRuntime;
const processes = new RoleProcesses(() => ({
  ...t.env,
  WEBGUARD_LIVE_TOKEN: LIVE_TOKEN,
  WEBGUARD_STALLED_INTERVAL_MS: '5000',
  LOG_LEVEL: 'warn',
}));

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [], scheduler: false });
});
afterAll(async () => {
  await processes.stopAll();
  await t?.stop();
});

type LiveSocket = Socket<LiveServerToClientEvents, LiveClientToServerEvents>;

async function watch(url: string, auth: Record<string, string>) {
  const socket: LiveSocket = io(`${url}${LIVE_NAMESPACE}`, {
    transports: ['websocket'],
    extraHeaders: auth,
    auth: { token: LIVE_TOKEN },
    reconnection: false,
  });
  const events: RunEvent[] = [];
  socket.on('run:event', (event) => events.push(event));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return {
    events,
    subscribe: (executionId: number): Promise<LiveAck> =>
      socket.emitWithAck('run:subscribe', { execution_id: executionId }),
    close: () => void socket.disconnect(),
  };
}

/** Cases this worker process recorded, read from its own /metrics. */
async function casesRecordedBy(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('webguard_skill_results_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('scale-out', () => {
  it('runs 300 cases on 2 APIs and 3 workers, each case once, every event seen through either API', async () => {
    // 1. The suite, created in-process (the processes share the database).
    const suite = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/suites',
        payload: { name: 'wide', max_concurrent_tests: 60 },
      })
    ).json();
    const created = await Promise.all(
      Array.from({ length: CASES }, (_, i) =>
        t.inject({
          method: 'POST',
          url: `/api/v1/suites/${suite.id}/cases`,
          payload: { name: `case-${i}`, skill_name: 'echo', params: { i } },
        }),
      ),
    );
    expect(created.filter((response) => response.statusCode !== 201)).toEqual([]);

    // 2. The cluster: two APIs, three workers with a metrics port each.
    const [apiA, apiB] = await Promise.all([processes.spawnApi(), processes.spawnApi()]);
    const workers: (RoleProcess & { metricsPort: number })[] = [];
    for (let i = 0; i < 3; i++) {
      const metricsPort = await freePort();
      const role = processes.spawn(
        ['worker', '--queues', 'executions,api', '--concurrency', '10'],
        {
          HOST: '127.0.0.1',
          WEBGUARD_METRICS_PORT: String(metricsPort),
        },
      );
      workers.push({ ...role, metricsPort });
    }
    const authA = await signInOverHttp(apiA!.url);
    const authB = await signInOverHttp(apiB!.url);
    const watchers = [await watch(apiA!.url, authA), await watch(apiB!.url, authB)];

    // 3. Triggered through one API, followed through the other and watched on both.
    const triggered = await fetch(`${apiA!.url}/api/v1/executions`, {
      method: 'POST',
      headers: { ...authA, 'content-type': 'application/json' },
      body: JSON.stringify({ suite_id: suite.id }),
    });
    expect(triggered.status).toBe(202);
    const id = ((await triggered.json()) as { execution_id: number }).execution_id;
    for (const watcher of watchers) expect(await watcher.subscribe(id)).toMatchObject({ ok: true });
    const execution = await waitFor(
      async () => {
        const response = await fetch(`${apiB!.url}/api/v1/executions/${id}`, { headers: authB });
        const body = (await response.json()) as { completed_at: string | null };
        return body.completed_at ? body : undefined;
      },
      { what: 'the 300-case run to finish', timeoutMs: 150_000, intervalMs: 250 },
    );
    expect(execution).toMatchObject({ status: 'passed', total_tests: CASES, passed_tests: CASES });

    // 4. Every case accounted for exactly once.
    const { rows } = (await t.runtime.database.db.execute(
      sql`SELECT test_name AS name, count(*)::int AS n FROM test_results WHERE execution_id = ${id} GROUP BY test_name`,
    )) as unknown as { rows: { name: string; n: number }[] };
    expect(rows).toHaveLength(CASES);
    expect(rows.filter((row) => row.n !== 1)).toEqual([]);

    // 5. The three workers shared the work, and together recorded each case once.
    const perWorker = await Promise.all(workers.map((w) => casesRecordedBy(w.metricsPort)));
    for (const count of perWorker) expect(count).toBeGreaterThan(0);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(CASES);

    // 6. A client on either API saw the whole run: every event once, in order, no gap.
    for (const watcher of watchers) {
      await waitFor(
        async () =>
          watcher.events.some((e) => e.type === 'execution.finished') ? true : undefined,
        { what: 'execution.finished on the live socket', timeoutMs: 30_000 },
      );
      const seqs = watcher.events.map((event) => event.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      const finishedCases = watcher.events.filter((event) => event.type === 'case.finished');
      expect(new Set(finishedCases.map((event) => event.case_name)).size).toBe(CASES);
      expect(finishedCases).toHaveLength(CASES);
      watcher.close();
    }
    expect(watchers[0]!.events).toEqual(watchers[1]!.events);
    for (const role of [apiA!, apiB!, ...workers]) expect(role.child.exitCode).toBeNull();
  }, 240_000);
});
