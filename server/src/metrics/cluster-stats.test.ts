import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionCases, testExecutions } from '../db/schema.js';
import { TEST_REDIS_URL } from '../../test/support/redis.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { ClusterStats } from './cluster-stats.js';

describe('cluster stats', () => {
  let t: TestRuntime;
  let redis: Redis;
  let stats: ClusterStats;

  beforeAll(async () => {
    t = await startTestRuntime({}, { workers: ['api'], scheduler: false });
    redis = new Redis(TEST_REDIS_URL);
    stats = new ClusterStats({
      db: t.runtime.database.db,
      queues: t.runtime.queues,
      redis,
      prefix: t.config.queuePrefix,
    });
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.stop();
  });

  const trigger = async (suiteId: number): Promise<number> =>
    (
      await t.inject({ method: 'POST', url: '/api/v1/executions', payload: { suite_id: suiteId } })
    ).json().execution_id as number;

  const stateOf = async (executionId: number) =>
    (
      await t.runtime.database.db
        .select({ state: executionCases.state })
        .from(executionCases)
        .where(eq(executionCases.executionId, executionId))
    )[0]?.state;

  it('counts the cases running in open runs, not a row a finished run left behind', async () => {
    const db = t.runtime.database.db;
    // A finished run whose case row still says running, as a crash before the reaper leaves it.
    const quick = await t.suiteWith({ name: 'quick' }, [
      { name: 'echo', skill_name: 'echo', params: {} },
    ]);
    const finished = await trigger(quick);
    await waitFor(async () => ((await stateOf(finished)) === 'done' ? true : undefined));
    await waitFor(async () => {
      const [row] = await db
        .select({ completedAt: testExecutions.completedAt })
        .from(testExecutions)
        .where(eq(testExecutions.id, finished));
      return row?.completedAt ?? undefined;
    });
    await db.execute(
      sql`UPDATE ${executionCases} SET state = 'running' WHERE execution_id = ${finished}`,
    );

    const slow = await t.suiteWith({ name: 'slow' }, [
      { name: 'wait', skill_name: 'wait', params: { ms: 60_000 } },
    ]);
    const running = await trigger(slow);
    const cancel = () => t.inject({ method: 'POST', url: `/api/v1/executions/${running}/cancel` });
    try {
      await waitFor(async () => ((await stateOf(running)) === 'running' ? true : undefined));

      expect(await stats.activeTests()).toBe(1);
      const snapshot = await stats.snapshot();
      expect(snapshot.active_tests).toBe(1);
      expect(snapshot.running_executions).toEqual([running]);

      await cancel();
      await waitFor(async () => ((await stats.activeTests()) === 0 ? true : undefined), {
        what: 'the cancelled case to stop counting',
      });
    } finally {
      // A failure above must not leave the 60 s case holding up the runtime's shutdown.
      await cancel();
    }
  });
});
