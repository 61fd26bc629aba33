import type { Logger } from 'pino';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { ResultRepository } from '../db/result-repository.js';
import { executionCases } from '../db/schema.js';
import type { ExecutionCoordinator } from '../orchestration/execution-coordinator.js';
import { systemErrorOutcome } from '../orchestration/outcomes.js';
import { jobIds, QUEUE_NAMES } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';

const GRACE_MS = 60_000;

/** Job states in which a case job will still run (or is running). */
const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * The last line of defence against a run stuck in `running`: BullMQ already hands a dead
 * worker's jobs to another, but a job can still vanish (Redis lost its data, a job failed all
 * its attempts). A case whose job is gone is recorded as a system error, and every open run is
 * advanced, which closes the ones whose cases have all ended.
 */
export async function reapExecutions(deps: {
  db: Database;
  coordinator: ExecutionCoordinator;
  queues: JobQueues;
  logger: Logger;
}): Promise<number> {
  const { db, coordinator, queues, logger } = deps;
  let lost = 0;
  for (const executionId of await coordinator.openExecutionIds()) {
    for (const row of await coordinator.activeCases(executionId)) {
      // A case queued moments ago may not have its job added yet.
      if (!row.queuedAt || Date.now() - row.queuedAt.getTime() < GRACE_MS) continue;
      const jobId = jobIds.runCase(executionId, row.caseId, row.attempt);
      const states = await Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const job = await queues.queue(name).getJob(jobId);
          return job ? await job.getState() : undefined;
        }),
      );
      if (states.some((state) => state !== undefined && ALIVE.has(state))) continue;
      lost++;
      logger.warn(
        { execution_id: executionId, case: row.name, job_id: jobId },
        'case job lost; recording it as a system error',
      );
      await db.transaction(async (tx) => {
        const results = new ResultRepository(tx);
        // A result may exist when only closing the case was lost; it is kept as it is.
        await results.record(
          executionId,
          { caseId: row.caseId, name: row.name, skillName: row.skillName },
          systemErrorOutcome(
            'the job running this case was lost (its worker or Redis failed) and could not be recovered',
          ),
          row.attempt,
        );
        const status = (await results.statusOf(executionId, row.caseId)) ?? 'error';
        await tx
          .update(executionCases)
          .set({ state: 'done', resultStatus: status, finishedAt: new Date() })
          .where(eq(executionCases.id, row.id));
      });
    }
    await coordinator.advance(executionId);
  }
  return lost;
}
