import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { executionCases } from '../db/schema.js';
import { reapExecutions } from './reaper.js';

/** With no workers running, a dispatched case's job is removed by hand, as if Redis lost it. */
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [] });
});
afterAll(async () => t?.stop());

async function queuedRun(name: string): Promise<number> {
  const suite = (
    await t.inject({ method: 'POST', url: '/api/v1/suites', payload: { name } })
  ).json();
  await t.inject({
    method: 'POST',
    url: `/api/v1/suites/${suite.id}/cases`,
    payload: { name: 'orphan', skill_name: 'echo' },
  });
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
