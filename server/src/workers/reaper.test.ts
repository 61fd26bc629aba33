import { eq, sql } from 'drizzle-orm';
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

describe('reapExecutions', () => {
  it('records a case whose job is gone as a system error and closes the run', async () => {
    const suite = (
      await t.inject({ method: 'POST', url: '/api/v1/suites', payload: { name: 'lost' } })
    ).json();
    await t.inject({
      method: 'POST',
      url: `/api/v1/suites/${suite.id}/cases`,
      payload: { name: 'orphan', skill_name: 'echo' },
    });
    const id = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/executions',
        payload: { suite_id: suite.id },
      })
    ).json().execution_id as number;
    await t.runtime.queues.queue('api').obliterate({ force: true });
    // Recently queued cases get a grace period; age this one past it.
    await t.runtime.database.db
      .update(executionCases)
      .set({ queuedAt: sql`now() - interval '5 minutes'` })
      .where(eq(executionCases.executionId, id));

    const deps = {
      db: t.runtime.database.db,
      coordinator: t.runtime.coordinator,
      queues: t.runtime.queues,
      logger: pino({ level: 'silent' }),
    };
    expect(await reapExecutions(deps)).toBe(1);
    const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
    expect(execution).toMatchObject({ status: 'error', failed_tests: 1 });
    expect(execution.results[0]).toMatchObject({ status: 'error', error_type: 'system' });
    expect(execution.results[0].error_message).toContain('was lost');
    expect(await reapExecutions(deps)).toBe(0);
  });
});
