import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL } from '../support/postgres.js';
import { RoleProcesses } from '../support/processes.js';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Faults under worker processes: PostgreSQL dropping every connection mid-run, and a worker
 * frozen (SIGSTOP) past its lock, then thawed. The API here, workers as OS processes.
 */
let t: TestRuntime;
const processes = new RoleProcesses(() => ({
  ...t.env,
  WEBGUARD_STALLED_INTERVAL_MS: '1000',
  WEBGUARD_REAPER_INTERVAL_MS: '1000',
  LOG_LEVEL: 'warn',
}));

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [], scheduler: false });
});
afterEach(() => processes.stopAll());
afterAll(async () => {
  await processes.stopAll();
  await t?.stop();
});

const post = (url: string, payload: object) => t.inject({ method: 'POST', url, payload });
/** Reads through the test's own pool, which loses its connections too: one retry covers that. */
async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const run = async () =>
    ((await t.runtime.database.db.execute(query)) as unknown as { rows: T[] }).rows;
  try {
    return await run();
  } catch {
    return await run();
  }
}

const suiteWith = (suite: object, cases: object[]) => t.suiteWith(suite, cases);

const finished = (id: number) =>
  waitFor(
    async () => {
      const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
      return execution.completed_at ? execution : undefined;
    },
    { what: `execution ${id} to finish`, timeoutMs: 90_000 },
  );

const resultsPerCase = (id: number) =>
  rows<{ name: string; n: number }>(
    sql`SELECT test_name AS name, count(*)::int AS n FROM test_results WHERE execution_id = ${id} GROUP BY test_name`,
  );

/** Ends every server connection to this test's database, as a PostgreSQL restart would. */
async function terminateConnections(): Promise<number> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const database = new URL(t.env.DATABASE_URL!).pathname.slice(1);
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('worker faults', () => {
  it('finishes a run whose database connections are all cut mid-run, without a crash or a lost case', async () => {
    const cases = Array.from({ length: 12 }, (_, i) => ({
      name: `c${i}`,
      skill_name: 'wait',
      params: { ms: 150 },
      retries: 0,
    }));
    const suiteId = await suiteWith({ name: 'pg-cut', max_concurrent_tests: 3 }, cases);
    const worker = processes.spawn(['worker', '--queues', 'executions,api', '--concurrency', '3']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    await waitFor(async () => ((await resultsPerCase(id)).length > 0 ? true : undefined), {
      what: 'the first result',
      timeoutMs: 60_000,
    });

    // Three waves of cuts while cases run: every process's pool loses its connections.
    let cut = 0;
    for (let wave = 0; wave < 3; wave++) {
      cut += await terminateConnections();
      await waitFor(
        async () => {
          const [row] = await rows<{ n: number }>(
            sql`SELECT count(*)::int AS n FROM test_results WHERE execution_id = ${id}`,
          );
          return row && row.n > wave ? true : undefined;
        },
        { what: 'the run to make progress', timeoutMs: 60_000 },
      );
    }
    expect(cut).toBeGreaterThan(0);

    const execution = await finished(id);
    expect(execution).toMatchObject({ status: 'passed', total_tests: 12, passed_tests: 12 });
    const perCase = await resultsPerCase(id);
    expect(perCase).toHaveLength(12);
    for (const row of perCase) expect(row.n, row.name).toBe(1);
    expect(worker.child.exitCode).toBeNull();
  }, 120_000);

  it('keeps one result when a worker frozen past its lock wakes up and finishes the case late', async () => {
    const suiteId = await suiteWith({ name: 'frozen' }, [
      { name: 'slow', skill_name: 'wait', params: { ms: 1_500 }, retries: 0 },
    ]);
    const frozen = processes.spawn(['worker', '--queues', 'executions,api']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    await waitFor(
      async () => {
        const [row] = await rows<{ state: string }>(
          sql`SELECT state FROM execution_cases WHERE execution_id = ${id}`,
        );
        return row?.state === 'running' ? true : undefined;
      },
      { what: 'the case to start', timeoutMs: 60_000 },
    );

    // 1. Freeze the worker mid-case: its lock expires and another worker takes the case over.
    frozen.child.kill('SIGSTOP');
    const rescuer = processes.spawn(['worker', '--queues', 'executions,api']);
    const execution = await finished(id);
    expect(execution).toMatchObject({ status: 'passed', passed_tests: 1 });

    // 2. Thaw it: its case ends long overdue and tries to record a second result.
    frozen.child.kill('SIGCONT');
    rescuer.child.kill('SIGTERM');
    await rescuer.exited;

    // 3. The thawed worker goes on with new work, and the old case still has one result.
    const next = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    expect(await finished(next)).toMatchObject({ status: 'passed', passed_tests: 1 });
    expect(await resultsPerCase(id)).toEqual([{ name: 'slow', n: 1 }]);
    expect((await t.inject(`/api/v1/executions/${id}`)).json()).toMatchObject({
      status: 'passed',
      passed_tests: 1,
      total_tests: 1,
    });
    expect(frozen.child.exitCode).toBeNull();
  }, 120_000);
});
