/**
 * bench/scale: the same suite of I/O-bound API cases (the `wait` fixture skill, 200 ms each) run
 * by 1, 2 and 3 worker processes (`webguard worker`, separate OS processes) on one Redis and
 * PostgreSQL; prints cases/s for each and the speed-up over one worker. The baseline is the
 * one-worker run of the same invocation.
 * Usage: npm run build && npm run bench -- scale [cases=300] [concurrency=5] [wait_ms=200]
 *   [thread|none]
 */
import { sql } from 'drizzle-orm';
import { testCases } from '../../server/src/db/schema.js';
import { RoleProcesses } from '../../server/test/support/processes.js';
import { startTestRuntime, type TestRuntime } from '../../server/test/support/test-runtime.js';

const CASES = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 5);
const WAIT_MS = Number(process.argv[4] ?? 200);
/** How workers run skills: `thread` (the default, sandboxed) or `none` (in the worker). */
const ISOLATION = process.argv[5] ?? 'thread';
const WORKER_COUNTS = [1, 2, 3];

/** The API in-process (no workers of its own); workers join as processes per round. */
const t: TestRuntime = await startTestRuntime({}, { workers: [], scheduler: false });
const processes = new RoleProcesses(() => ({
  ...t.env,
  LOG_LEVEL: 'warn',
  WEBGUARD_SKILL_ISOLATION: ISOLATION,
}));

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Triggers a run of the suite and waits for it; returns its duration and passed cases. */
async function runSuite(
  suiteId: number,
  what: string,
): Promise<{ seconds: number; passed: number }> {
  const started = performance.now();
  const trigger = await t.inject({
    method: 'POST',
    url: '/api/v1/executions',
    payload: { suite_id: suiteId },
  });
  const id = trigger.json<{ execution_id: number }>().execution_id;
  let passed = 0;
  await waitUntil(async () => {
    const [row] = (
      (await t.runtime.database.db.execute(
        sql`SELECT completed_at, passed_tests FROM test_executions WHERE id = ${id}`,
      )) as unknown as { rows: { completed_at: Date | null; passed_tests: number }[] }
    ).rows;
    passed = row?.passed_tests ?? 0;
    return Boolean(row?.completed_at);
  }, `run ${id} ${what}`);
  return { seconds: (performance.now() - started) / 1000, passed };
}

/** One round: `workers` processes, the whole suite once; returns cases per second. */
async function round(suiteId: number, warmUpId: number, workers: number): Promise<number> {
  for (let i = 0; i < workers; i++)
    processes.spawn(['worker', '--queues', 'executions,api', '--concurrency', String(CONCURRENCY)]);
  // Every process has its workers connected before the clock starts.
  await waitUntil(
    async () => (await t.runtime.queues.queue('api').getWorkers()).length >= workers,
    `${workers} worker process(es) to connect`,
  );
  // Workers that have been up a while have started their sandbox threads: so have these.
  await runSuite(warmUpId, `to warm up ${workers} worker(s)`);
  const { seconds, passed } = await runSuite(suiteId, `with ${workers} worker(s)`);
  if (passed !== CASES) throw new Error(`only ${passed} of ${CASES} cases passed`);
  await processes.stopAll();
  await waitUntil(
    async () => (await t.runtime.queues.queue('api').getWorkers()).length === 0,
    'the workers to disconnect',
  );
  return CASES / seconds;
}

try {
  const suite = (
    await t.inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name: 'scale', max_concurrent_tests: 1000 },
    })
  ).json<{ id: number }>();
  await t.runtime.database.db.insert(testCases).values(
    Array.from({ length: CASES }, (_, i) => ({
      suiteId: suite.id,
      name: `wait-${i}`,
      skillName: 'wait',
      params: { ms: WAIT_MS },
    })),
  );
  const warmUp = (
    await t.inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name: 'warm-up', max_concurrent_tests: 1000 },
    })
  ).json<{ id: number }>();
  const warmUpCases = 2 * CONCURRENCY * Math.max(...WORKER_COUNTS);
  await t.runtime.database.db.insert(testCases).values(
    Array.from({ length: warmUpCases }, (_, i) => ({
      suiteId: warmUp.id,
      name: `warm-${i}`,
      skillName: 'wait',
      params: { ms: 50 },
    })),
  );
  const rates: number[] = [];
  for (const workers of WORKER_COUNTS) {
    const rate = await round(suite.id, warmUp.id, workers);
    rates.push(rate);
    console.log(`${workers} worker(s) x ${CONCURRENCY}: ${rate.toFixed(1)} cases/s`);
  }
  const [one, two, three] = rates as [number, number, number];
  console.log(
    `scale: ${CASES} cases of ${WAIT_MS} ms, concurrency ${CONCURRENCY}/worker, isolation ${ISOLATION}, 1w=${one.toFixed(1)}/s 2w=${two.toFixed(1)}/s 3w=${three.toFixed(1)}/s speedup3=${(three / one).toFixed(2)} ratio=${(two / one).toFixed(2)}`,
  );
} finally {
  await processes.stopAll();
  await t.stop();
}
process.exit(0);
