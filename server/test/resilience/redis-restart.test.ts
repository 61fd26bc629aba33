import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureServer } from '../support/fixture-server.js';
import { RoleProcesses, startPrivateRedis, type PrivateRedis } from '../support/processes.js';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Redis restarted under a running cluster: a private redis-server (AOF on, as deployed) is
 * stopped and started again while a run has jobs waiting, delayed and active. The API here, a
 * worker and a scheduler as OS processes, none of them restarted.
 */
let redis: PrivateRedis;
let t: TestRuntime;
let fixture: Awaited<ReturnType<typeof startFixtureServer>>;
const processes = new RoleProcesses(() => ({
  ...t.env,
  WEBGUARD_STALLED_INTERVAL_MS: '1000',
  WEBGUARD_REAPER_INTERVAL_MS: '1000',
  LOG_LEVEL: 'warn',
}));
let calls = 0;

beforeAll(async () => {
  redis = await startPrivateRedis();
  fixture = await startFixtureServer({
    '/count': (_request, response) => {
      calls++;
      response.writeHead(200, { 'content-type': 'text/plain' }).end(String(calls));
    },
  });
  t = await startTestRuntime({ REDIS_URL: redis.url }, { workers: [], scheduler: false });
});
afterAll(async () => {
  await processes.stopAll();
  // A failed assertion may have left Redis down; the runtime closes its queues through it.
  await redis?.start().catch(() => undefined);
  await t?.stop();
  await fixture?.close();
  await redis?.destroy();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.inject({ method: 'POST', url, payload, headers });
const rows = async <T>(query: ReturnType<typeof sql>) =>
  ((await t.runtime.database.db.execute(query)) as unknown as { rows: T[] }).rows;

const suiteWith = (suite: object, cases: object[]) => t.suiteWith(suite, cases);

describe('Redis restarted mid-run', () => {
  it('loses no case, reports itself not ready while Redis is down, and refuses triggers fast', async () => {
    const suiteId = await suiteWith({ name: 'through-restart', max_concurrent_tests: 4 }, [
      ...Array.from({ length: 8 }, (_, i) => ({
        name: `wait-${i}`,
        skill_name: 'wait',
        params: { ms: 300 },
        retries: 0,
      })),
      // Runs first and fails once with a network error: its retry waits as a delayed job.
      {
        name: 'flaky',
        skill_name: 'flaky',
        params: { counter_url: `${fixture.url}/count`, passes_on: 2 },
        retries: 2,
        priority: 100,
      },
    ]);
    const cronSuite = await suiteWith({ name: 'ticking', schedule_cron: '*/2 * * * * *' }, [
      { name: 'tick', skill_name: 'echo', params: {} },
    ]);
    // One case at a time, so the others wait in Redis; a slow retry backoff keeps one delayed.
    const worker = processes.spawn(['worker', '--queues', 'executions,api', '--concurrency', '1'], {
      WEBGUARD_RETRY_BASE_MS: '2500',
    });
    const scheduler = processes.spawn(['scheduler']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;

    // 1. Wait until the run has jobs active, waiting and delayed at once.
    const api = t.runtime.queues.queue('api');
    await waitFor(
      async () => {
        const counts = await api.getJobCounts('active', 'waiting', 'prioritized', 'delayed');
        return counts.active! > 0 &&
          counts.delayed! > 0 &&
          counts.waiting! + counts.prioritized! > 0
          ? true
          : undefined;
      },
      { what: 'jobs active, waiting and delayed', intervalMs: 20, timeoutMs: 60_000 },
    );

    // 2. Redis goes away: readiness says so, and a trigger is refused at once, leaving nothing.
    const otherSuite = await suiteWith({ name: 'while-down' }, [
      { name: 'one', skill_name: 'echo', params: {} },
    ]);
    await redis.stop();
    const down = await waitFor(
      async () => {
        const response = await t.inject('/readyz');
        return response.statusCode === 503
          ? response.json<{ checks: Record<string, { ok: boolean }> }>()
          : undefined;
      },
      { what: '/readyz to report Redis down' },
    );
    expect(down.checks).toMatchObject({ database: { ok: true }, redis: { ok: false } });
    const refused = await post('/api/v1/executions', { suite_id: otherSuite });
    expect(refused.statusCode).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error.code).toBe('SERVICE_UNAVAILABLE');
    const orphans = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM test_executions WHERE suite_id = ${otherSuite}`,
    );
    expect(orphans[0]?.n).toBe(0);
    // A suite saved while Redis is down is not held up by its schedule, which follows later.
    const savedWhileDown = await post('/api/v1/suites', {
      name: 'scheduled-while-down',
      schedule_cron: '0 3 * * *',
    });
    expect(savedWhileDown.statusCode, savedWhileDown.body).toBe(201);

    // 3. Redis comes back with its data; nobody is restarted.
    await redis.start();
    const restartedAt = new Date();
    const execution = await waitFor(
      async () => {
        const found = (await t.inject(`/api/v1/executions/${id}`)).json();
        return found.completed_at ? found : undefined;
      },
      { what: 'the run to finish after the restart', timeoutMs: 60_000 },
    );
    expect(execution).toMatchObject({ status: 'passed', total_tests: 9, passed_tests: 9 });
    const perCase = await rows<{ name: string; n: number }>(
      sql`SELECT test_name AS name, count(*)::int AS n FROM test_results WHERE execution_id = ${id} GROUP BY test_name`,
    );
    expect(perCase).toHaveLength(9);
    for (const row of perCase) expect(row.n, row.name).toBe(1);
    expect((await t.inject('/readyz')).statusCode).toBe(200);
    const schedules = t.runtime.queues.queue('schedules');
    await waitFor(
      async () =>
        (await schedules.getJobSchedulers(0, -1)).some(
          (s) => (s.id ?? s.key) === `suite-${savedWhileDown.json().id}`,
        ) || undefined,
      { what: 'the schedule saved while Redis was down to reach Redis' },
    );

    // 4. The scheduler fires again, and the worker runs what it fires.
    await waitFor(
      async () => {
        const [run] = await rows<{ status: string }>(
          sql`SELECT status FROM test_executions WHERE suite_id = ${cronSuite} AND created_at > ${restartedAt.toISOString()} AND status = 'passed'`,
        );
        return run;
      },
      { what: 'a scheduled run after the restart', timeoutMs: 30_000 },
    );
    await t.inject({
      method: 'PATCH',
      url: `/api/v1/suites/${cronSuite}`,
      payload: { schedule_cron: null },
    });
    expect(worker.child.exitCode).toBeNull();
    expect(scheduler.child.exitCode).toBeNull();
  }, 150_000);

  it('rebuilds the queues from PostgreSQL when Redis comes back without its data', async () => {
    await processes.stopAll();
    const suiteId = await suiteWith(
      { name: 'through-data-loss', max_concurrent_tests: 3 },
      Array.from({ length: 6 }, (_, i) => ({
        name: `wait-${i}`,
        skill_name: 'wait',
        params: { ms: 300 },
        retries: 0,
      })),
    );
    const worker = processes.spawn(['worker', '--queues', 'executions,api', '--concurrency', '1']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    await waitFor(
      async () => {
        const [row] = await rows<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM test_results WHERE execution_id = ${id}`,
        );
        return row && row.n > 0 ? true : undefined;
      },
      { what: 'the first result', timeoutMs: 60_000 },
    );

    // Every queued job, the reaper's schedule and the workers' locks are gone at once.
    const admin = new Redis(redis.url);
    await admin.flushall();
    admin.disconnect();

    const execution = await waitFor(
      async () => {
        const found = (await t.inject(`/api/v1/executions/${id}`)).json();
        return found.completed_at ? found : undefined;
      },
      { what: 'the run to finish after the data loss', timeoutMs: 60_000 },
    );
    expect(execution).toMatchObject({ status: 'passed', total_tests: 6, passed_tests: 6 });
    const perCase = await rows<{ name: string; n: number }>(
      sql`SELECT test_name AS name, count(*)::int AS n FROM test_results WHERE execution_id = ${id} GROUP BY test_name`,
    );
    expect(perCase).toHaveLength(6);
    for (const row of perCase) expect(row.n, row.name).toBe(1);
    expect(worker.child.exitCode).toBeNull();
  }, 120_000);
});
