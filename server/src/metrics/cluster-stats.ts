import { and, count, eq, inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { QUEUE_STATES, type QueueDepth } from '@webguard/shared';
import type { Database } from '../db/database.js';
import { executionCases, testExecutions } from '../db/schema.js';
import type { ClusterSnapshot } from '../live/index.js';
import type { QueueName } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';
import { countWorkersOnline } from './worker-presence.js';

/** Running executions a tick lists at most; the count of active tests covers the rest. */
const MAX_LISTED_EXECUTIONS = 200;

/** The whole cluster at a glance: what runs, what waits, who works. */
export class ClusterStats {
  constructor(
    private readonly deps: { db: Database; queues: JobQueues; redis: Redis; prefix: string },
  ) {}

  /** Jobs per queue by state; prioritized jobs are waiting jobs to a person. */
  async queueDepth(): Promise<Record<QueueName, QueueDepth>> {
    const counts = await this.deps.queues.counts();
    const depth = {} as Record<QueueName, QueueDepth>;
    for (const [queue, byState] of Object.entries(counts) as [
      QueueName,
      Record<string, number>,
    ][]) {
      const row = Object.fromEntries(
        QUEUE_STATES.map((state) => [state, byState[state] ?? 0]),
      ) as QueueDepth;
      row.waiting = (row.waiting ?? 0) + (byState.prioritized ?? 0);
      depth[queue] = row;
    }
    return depth;
  }

  /**
   * Cases running now. Looked up through the open runs, whose cases the `(execution_id, state)`
   * index finds: by state alone, every tick read every case of the whole history.
   */
  async activeTests(): Promise<number> {
    const { db } = this.deps;
    const openRuns = db
      .select({ id: testExecutions.id })
      .from(testExecutions)
      .where(inArray(testExecutions.status, ['queued', 'running']));
    const [row] = await db
      .select({ n: count() })
      .from(executionCases)
      .where(
        and(eq(executionCases.state, 'running'), inArray(executionCases.executionId, openRuns)),
      );
    return row?.n ?? 0;
  }

  workersOnline(): Promise<number> {
    return countWorkersOnline(this.deps.redis, this.deps.prefix);
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const [active, running, queues, workers] = await Promise.all([
      this.activeTests(),
      this.deps.db
        .select({ id: testExecutions.id })
        .from(testExecutions)
        .where(eq(testExecutions.status, 'running'))
        .limit(MAX_LISTED_EXECUTIONS),
      this.queueDepth(),
      this.workersOnline(),
    ]);
    return {
      active_tests: active,
      running_executions: running.map((row) => row.id),
      queues,
      workers_online: workers,
    };
  }
}
