import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';
import { waitFor } from '../support/wait-for.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/**
 * The cluster as operators run it: the API here, workers and schedulers as separate OS
 * processes sharing PostgreSQL and Redis.
 */
let t: TestRuntime;
const children: ChildProcess[] = [];

function spawnRole(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: t.env.WEBGUARD_HOME,
      ...t.env,
      WEBGUARD_STALLED_INTERVAL_MS: '1000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('exit', (code, signal) => {
    if (code && code !== 0 && signal === null)
      console.error(`webguard ${args.join(' ')} exited ${code}: ${stderr}`);
  });
  children.push(child);
  return child;
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [], scheduler: false });
});
afterEach(stopAll);
afterAll(async () => {
  await stopAll();
  await t?.stop();
});

const api = () => t;
const post = (url: string, payload: unknown) =>
  api().inject({ method: 'POST', url, payload: payload as object });
const rows = async <T>(query: ReturnType<typeof sql>) =>
  ((await t.runtime.database.db.execute(query)) as unknown as { rows: T[] }).rows;

const suiteWith = (suite: object, cases: object[]) => t.suiteWith(suite, cases);

/** Waits until the (only) case of the execution is running on some worker. */
const caseRunning = (id: number) =>
  waitFor(
    async () => {
      const [row] = await rows<{ state: string }>(
        sql`SELECT state FROM execution_cases WHERE execution_id = ${id}`,
      );
      return row?.state === 'running' ? true : undefined;
    },
    { what: 'the case to start' },
  );

const finished = (id: number) =>
  waitFor(
    async () => {
      const execution = (await api().inject(`/api/v1/executions/${id}`)).json();
      return execution.completed_at ? execution : undefined;
    },
    { what: `execution ${id} to finish`, timeoutMs: 60_000 },
  );

describe('cluster', () => {
  it('hands a case to another worker when its worker is killed, and records it once', async () => {
    const suiteId = await suiteWith({ name: 'kill' }, [
      { name: 'slow', skill_name: 'wait', params: { ms: 3_000 }, retries: 0 },
    ]);
    const first = spawnRole(['worker', '--queues', 'executions,api']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    await caseRunning(id);
    first.kill('SIGKILL');
    spawnRole(['worker', '--queues', 'executions,api']);
    const execution = await finished(id);
    expect(execution).toMatchObject({ status: 'passed', passed_tests: 1, total_tests: 1 });
    const [count] = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM test_results WHERE execution_id = ${id}`,
    );
    expect(count?.n).toBe(1);
  });

  it('hands a shared job to another worker when its worker is killed, and records each case once', async () => {
    const suiteId = await suiteWith(
      { name: 'kill-shared', max_concurrent_tests: 50 },
      Array.from({ length: 20 }, (_, i) => ({
        name: `q${i}`,
        skill_name: 'wait',
        params: { ms: 1 },
        retries: 0,
      })),
    );
    const first = spawnRole(['worker', '--queues', 'executions,api']);
    const warm = (await post('/api/v1/executions', { suite_id: suiteId })).json().execution_id;
    expect(await finished(warm as number)).toMatchObject({ status: 'passed' });
    // Slower from now on, but the history says quick: 10 jobs of two cases each.
    await t.setCaseParams(suiteId, { ms: 700 });
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    // Every job ran its first case (run, not yet recorded) and started its second.
    await waitFor(
      async () => {
        const [row] = await rows<{ running: number }>(
          sql`SELECT count(*)::int AS running FROM execution_cases WHERE execution_id = ${id} AND state = 'running'`,
        );
        return row?.running === 20 ? true : undefined;
      },
      { what: 'both cases of every shared job to be claimed' },
    );
    first.kill('SIGKILL');
    spawnRole(['worker', '--queues', 'executions,api']);
    const execution = await finished(id);
    expect(execution).toMatchObject({ status: 'passed', passed_tests: 20, total_tests: 20 });
    const perCase = await rows<{ test_case_id: number; n: number }>(
      sql`SELECT test_case_id, count(*)::int AS n FROM test_results WHERE execution_id = ${id} GROUP BY test_case_id`,
    );
    expect(perCase).toHaveLength(20);
    expect(perCase.every((row) => row.n === 1)).toBe(true);
    const [jobs] = await rows<{ n: number }>(
      sql`SELECT count(DISTINCT job_id)::int AS n FROM execution_cases WHERE execution_id = ${id}`,
    );
    expect(jobs?.n).toBe(10);
  });

  it('finishes the running case before a worker stops on SIGTERM', async () => {
    const suiteId = await suiteWith({ name: 'drain' }, [
      { name: 'busy', skill_name: 'wait', params: { ms: 2_000 }, retries: 0 },
    ]);
    const worker = spawnRole(['worker', '--queues', 'executions,api']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    await caseRunning(id);
    const exited = new Promise<number | null>((resolve) =>
      worker.once('exit', (code) => resolve(code)),
    );
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    const execution = await finished(id);
    expect(execution).toMatchObject({ status: 'passed', passed_tests: 1 });
  });

  it("holds the suite's max_concurrent_tests across worker processes", async () => {
    const cases = Array.from({ length: 6 }, (_, i) => ({
      name: `c${i}`,
      skill_name: 'wait',
      params: { ms: 400 },
    }));
    const suiteId = await suiteWith({ name: 'spread', max_concurrent_tests: 2 }, cases);
    spawnRole(['worker', '--queues', 'executions,api', '--concurrency', '5']);
    spawnRole(['worker', '--queues', 'executions,api', '--concurrency', '5']);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    const execution = await finished(id);
    expect(execution.status).toBe('passed');
    const spans = execution.results.map((r: { started_at: string; completed_at: string }) => [
      new Date(r.started_at).getTime(),
      new Date(r.completed_at).getTime(),
    ]);
    for (const [start] of spans) {
      const running = spans.filter(([s, e]: number[]) => s! <= start! && start! < e!).length;
      expect(running).toBeLessThanOrEqual(2);
    }
  });

  it('starts one run per cron tick however many schedulers run', async () => {
    const suiteId = await suiteWith({ name: 'every-2s', schedule_cron: '*/2 * * * * *' }, [
      { name: 'tick', skill_name: 'echo', params: {} },
    ]);
    spawnRole(['scheduler']);
    spawnRole(['scheduler']);
    spawnRole(['worker', '--queues', 'executions,api']);
    const executions = await waitFor(
      async () => {
        const found = await rows<{ idempotency_key: string }>(
          sql`SELECT idempotency_key FROM test_executions WHERE suite_id = ${suiteId} AND triggered_by = 'schedule'`,
        );
        return found.length >= 3 ? found : undefined;
      },
      // Generous: three processes start first, and a loaded machine starts them slowly.
      { what: 'three scheduled runs', timeoutMs: 90_000 },
    );
    await api().inject({
      method: 'PATCH',
      url: `/api/v1/suites/${suiteId}`,
      payload: { schedule_cron: null },
    });
    // Each run names the tick it was started for: every one a distinct 2-second boundary.
    const ticks = executions.map((row) =>
      Date.parse(row.idempotency_key.replace(/^schedule:/, '')),
    );
    for (const tick of ticks) expect(tick % 2000).toBe(0);
    expect(new Set(ticks).size).toBe(ticks.length);
  }, 120_000);
});
