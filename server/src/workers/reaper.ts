import type { Logger } from 'pino';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { ResultRepository } from '../db/result-repository.js';
import { executionCases } from '../db/schema.js';
import type { ExecutionCoordinator } from '../orchestration/execution-coordinator.js';
import { systemErrorOutcome } from '../orchestration/outcomes.js';
import { bullPriority, jobIds, QUEUE_NAMES, queueForCategory } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';
import type { SkillRegistry } from '../skills/index.js';

const GRACE_MS = 60_000;
/**
 * A case queued moments ago may still have its job on the way. Adding it again is harmless
 * (one job per id), so a missing job is put back after this short pause.
 */
const REQUEUE_GRACE_MS = 2_000;

/** Job states in which a case job will still run (or is running). */
const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * The reconciler between PostgreSQL (what should run) and Redis (what will run), and the last
 * line of defence against a run stuck in `running`. BullMQ already hands a dead worker's jobs to
 * another, but a job can still vanish: Redis restarted without its data, a dispatch that failed
 * while Redis was down, a job that failed all its attempts.
 * 1. A case recorded as queued or running whose job no queue knows is queued again (same job id,
 *    so a job that turns up after all is not doubled); the attempt's claim keeps it to one result.
 * 2. A case whose job ended without closing it (failed all its attempts) is recorded as a
 *    system error.
 * 3. Every open run is advanced, which dispatches what is ready and closes finished runs.
 */
export async function reapExecutions(deps: {
  db: Database;
  coordinator: ExecutionCoordinator;
  queues: JobQueues;
  skills: SkillRegistry;
  logger: Logger;
}): Promise<number> {
  const { db, coordinator, queues, skills, logger } = deps;
  let lost = 0;
  for (const executionId of await coordinator.openExecutionIds()) {
    for (const row of await coordinator.activeCases(executionId)) {
      const age = row.queuedAt ? Date.now() - row.queuedAt.getTime() : 0;
      if (age < REQUEUE_GRACE_MS) continue;
      // The job that holds the case: its own, or one it shares with other quick cases.
      const jobId = row.jobId ?? jobIds.runCase(executionId, row.caseId, row.attempt);
      const states = await Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const job = await queues.queue(name).getJob(jobId);
          return job ? await job.getState() : undefined;
        }),
      );
      if (states.some((state) => state !== undefined && ALIVE.has(state))) continue;
      const found = skills.find(row.skillName, row.skillVersion);
      if (states.every((state) => state === undefined) && found.ok) {
        // Back on the queue in a job of its own.
        const ownJobId = jobIds.runCase(executionId, row.caseId, row.attempt);
        await db
          .update(executionCases)
          .set({ jobId: ownJobId })
          .where(and(eq(executionCases.id, row.id), eq(executionCases.attempt, row.attempt)));
        await queues.enqueue(
          queueForCategory(found.skill.definition.category),
          'run-case',
          { execution_id: executionId, case_id: row.caseId, attempt: row.attempt },
          { jobId: ownJobId, priority: bullPriority(row.priority) },
        );
        logger.warn(
          { execution_id: executionId, case: row.name, job_id: ownJobId, lost_job_id: jobId },
          'case job missing from Redis; queued it again',
        );
        continue;
      }
      if (age < GRACE_MS) continue;
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
