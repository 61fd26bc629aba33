/**
 * bench/dispatch: 1,000 no-op cases through WebGuard (trigger → results in PostgreSQL) against
 * 1,000 no-op jobs through bare BullMQ on the same Redis with the same worker concurrency, in
 * one run. Usage: npm run build && npm run bench -- dispatch [cases] [concurrency]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../server/src/config.js';
import { executionCases, testCases } from '../../server/src/db/schema.js';
import { createLogger } from '../../server/src/runtime/logger.js';
import { startRuntime } from '../../server/src/runtime/runtime.js';
import { createTestDatabase } from '../../server/test/support/postgres.js';

const CASES = Number(process.argv[2] ?? 1000);
const CONCURRENCY = Number(process.argv[3] ?? 10);
const REDIS_URL = process.env.WEBGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FIXTURE_SKILLS = fileURLToPath(new URL('../../server/test/fixtures/skills', import.meta.url));

const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
};

/** The baseline: no-op jobs through BullMQ alone. */
async function bareBullmq(): Promise<{ perSecond: number; p95Ms: number }> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  const events = new QueueEvents('noop', {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
  });
  await events.waitUntilReady();
  const latencies: number[] = [];
  let done = 0;
  const allDone = new Promise<void>((resolve) => {
    events.on('completed', () => {
      if (++done === CASES) resolve();
    });
  });
  const worker = new Worker(
    'noop',
    async (job: Job) => {
      latencies.push(Date.now() - job.timestamp);
    },
    {
      connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: CONCURRENCY,
    },
  );
  const started = performance.now();
  await queue.addBulk(Array.from({ length: CASES }, (_, i) => ({ name: 'noop', data: { i } })));
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { perSecond: CASES / seconds, p95Ms: p95(latencies) };
}

/** WebGuard: one suite of no-op cases, triggered through the REST API, results in PostgreSQL. */
async function webguard(): Promise<{ perSecond: number; p95Ms: number }> {
  const database = await createTestDatabase();
  const home = mkdtempSync(join(tmpdir(), 'wg-bench-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL,
    WEBGUARD_HOME: home,
    WEBGUARD_QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    WEBGUARD_SKILLS_PATHS: FIXTURE_SKILLS,
    WEBGUARD_CONCURRENCY_API: String(CONCURRENCY),
    WEBGUARD_SECRET_KEY: 'ab'.repeat(32),
    LOG_LEVEL: 'silent',
  });
  const runtime = await startRuntime(
    config,
    { api: true, workers: ['executions', 'api'], listen: false },
    createLogger(config, 'bench'),
  );
  try {
    const app = runtime.app!;
    const suite = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/suites',
        payload: { name: 'noop', max_concurrent_tests: 1000 },
      })
    ).json();
    await runtime.database.db.insert(testCases).values(
      Array.from({ length: CASES }, (_, i) => ({
        suiteId: suite.id as number,
        name: `noop-${i}`,
        skillName: 'echo',
        params: {},
      })),
    );
    const started = performance.now();
    const trigger = await app.inject({
      method: 'POST',
      url: '/api/v1/executions',
      payload: { suite_id: suite.id },
    });
    const id = trigger.json().execution_id as number;
    for (;;) {
      const execution = (await app.inject(`/api/v1/executions?suite_id=${suite.id}`)).json()
        .items[0];
      if (execution.completed_at) {
        if (execution.passed_tests !== CASES)
          throw new Error(`only ${execution.passed_tests} of ${CASES} cases passed`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const rows = (await runtime.database.db.execute(
      sql`SELECT extract(epoch FROM (started_at - queued_at)) * 1000 AS ms FROM ${executionCases} WHERE execution_id = ${id}`,
    )) as unknown as { rows: { ms: string }[] };
    return { perSecond: CASES / seconds, p95Ms: p95(rows.rows.map((row) => Number(row.ms))) };
  } finally {
    await runtime.close();
    await database.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

const baseline = await bareBullmq();
const ours = await webguard();
const ratio = ours.perSecond / baseline.perSecond;
console.log(
  `bare BullMQ: ${baseline.perSecond.toFixed(0)} jobs/s, p95 queue-to-start ${baseline.p95Ms.toFixed(0)} ms`,
);
console.log(
  `WebGuard:    ${ours.perSecond.toFixed(0)} cases/s, p95 queue-to-start ${ours.p95Ms.toFixed(0)} ms`,
);
console.log(
  `dispatch: ${CASES} cases, concurrency ${CONCURRENCY}, webguard=${ours.perSecond.toFixed(0)}/s bullmq=${baseline.perSecond.toFixed(0)}/s p95_queue_to_start=${ours.p95Ms.toFixed(0)}ms ratio=${ratio.toFixed(2)}`,
);
process.exit(0);
