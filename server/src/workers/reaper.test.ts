import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { executionCases, testCases, testExecutions, testResults } from '../db/schema.js';
import { reapExecutions } from './reaper.js';

/** With no workers running, a dispatched case's job is removed by hand, as if Redis lost it. */
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [] });
});
afterAll(async () => t?.stop());

/**
 * A run of a new suite of `cases` echo cases, dispatched but never run; with `ranBefore`, each
 * case has a quick result in an earlier run, so the run's cases share jobs.
 */
async function queuedRun(name: string, cases = 1, ranBefore = false): Promise<number> {
  const db = t.runtime.database.db;
  const suite = (
    await t.inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name, max_concurrent_tests: 100 },
    })
  ).json();
  for (let i = 0; i < cases; i++) {
    await t.inject({
      method: 'POST',
      url: `/api/v1/suites/${suite.id}/cases`,
      payload: { name: cases === 1 ? 'orphan' : `orphan-${i}`, skill_name: 'echo' },
    });
  }
  if (ranBefore) {
    const [earlier] = await db.insert(testExecutions).values({ suiteId: suite.id }).returning();
    const created = await db.select().from(testCases).where(eq(testCases.suiteId, suite.id));
    await db.insert(testResults).values(
      created.map((testCase) => ({
        executionId: earlier!.id,
        testCaseId: testCase.id,
        testName: testCase.name,
        status: 'passed',
        executionTimeMs: 5,
      })),
    );
  }
  const id = (
    await t.inject({ method: 'POST', url: '/api/v1/executions', payload: { suite_id: suite.id } })
  ).json().execution_id as number;
  // Recently queued cases get a grace period; age this one past it.
  await t.runtime.database.db
    .update(executionCases)
    .set({ queuedAt: sql`now() - interval '5 minutes'` })
    .where(eq(executionCases.executionId, id));
  return id;
}

const deps = () => ({
  db: t.runtime.database.db,
  coordinator: t.runtime.coordinator,
  queues: t.runtime.queues,
  skills: t.runtime.skills,
  logger: pino({ level: 'silent' }),
});

describe('reapExecutions', () => {
  it('queues again, once, a case recorded in PostgreSQL whose job Redis lost', async () => {
    const id = await queuedRun('lost-job');
    const queue = t.runtime.queues.queue('api');
    const [jobId] = (await queue.getJobs(['prioritized', 'waiting'])).map((job) => job.id);
    await queue.obliterate({ force: true });
    expect(await queue.getJob(jobId!)).toBeUndefined();

    expect(await reapExecutions(deps())).toBe(0);
    expect(await reapExecutions(deps())).toBe(0);
    const jobs = await queue.getJobs(['prioritized', 'waiting']);
    expect(jobs.map((job) => job.id)).toEqual([jobId]);
    expect(jobs[0]!.data).toMatchObject({ execution_id: id, attempt: 0 });
    const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
    expect(execution).toMatchObject({ status: 'running', completed_at: null });
    await queue.obliterate({ force: true });
  });

  it('queues each case of a shared job Redis lost again, in a job of its own', async () => {
    const id = await queuedRun('lost-shared-job', 20, true);
    const queue = t.runtime.queues.queue('api');
    const shared = await queue.getJobs(['prioritized', 'waiting']);
    expect(shared.map((job) => job.name)).toEqual(Array<string>(10).fill('run-cases'));
    await queue.obliterate({ force: true });

    expect(await reapExecutions(deps())).toBe(0);
    // (An earlier test's run, still open, has its case queued again too.)
    const jobsOfRun = async () =>
      (await queue.getJobs(['prioritized', 'waiting'])).filter(
        (job) => (job.data as { execution_id: number }).execution_id === id,
      );
    const jobs = await jobsOfRun();
    expect(jobs.map((job) => job.name)).toEqual(Array<string>(20).fill('run-case'));
    const rows = await t.runtime.database.db
      .select()
      .from(executionCases)
      .where(eq(executionCases.executionId, id));
    expect(new Set(rows.map((row) => row.jobId))).toEqual(new Set(jobs.map((job) => job.id)));
    // Found alive now: nothing is queued a second time.
    expect(await reapExecutions(deps())).toBe(0);
    expect(await jobsOfRun()).toHaveLength(20);
    await queue.obliterate({ force: true });
  });

  it('records a case whose job ended without closing it as a system error and closes the run', async () => {
    const id = await queuedRun('dead-job');
    const queue = t.runtime.queues.queue('api');
    const [job] = await queue.getJobs(['prioritized', 'waiting']);
    // The job's data stays but it sits in no list, as one that failed all its attempts would
    // after a lost update: BullMQ reports it as neither waiting nor active.
    const redis = new Redis(t.env.REDIS_URL!);
    await redis.zrem(queue.toKey('prioritized'), job!.id!);
    await redis.lrem(queue.toKey('wait'), 0, job!.id!);
    redis.disconnect();
    expect(await job!.getState()).toBe('unknown');

    expect(await reapExecutions(deps())).toBe(1);
    const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
    expect(execution).toMatchObject({ status: 'error', failed_tests: 1 });
    expect(execution.results[0]).toMatchObject({ status: 'error', error_type: 'system' });
    expect(execution.results[0].error_message).toContain('was lost');
    expect(await reapExecutions(deps())).toBe(0);
  });
});
