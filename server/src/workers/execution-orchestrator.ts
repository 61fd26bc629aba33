import type { Logger } from 'pino';
import type { CaseOutcome, CaseSnapshot, RunExecutionJob } from '@webguard/shared';
import type { ExecutionRepository, ResultRepository } from '../db/index.js';
import { bullPriority, jobIds, queueForCategory, type QueueName } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';
import type { SkillRegistry } from '../skills/index.js';

export interface OrchestratorDeps {
  executions: ExecutionRepository;
  results: ResultRepository;
  skills: SkillRegistry;
  queues: JobQueues;
  logger: Logger;
}

/** A result for a case that could not even be queued, so the run still accounts for it. */
function notRunnable(message: string): CaseOutcome {
  const now = new Date().toISOString();
  return {
    status: 'error',
    error_type: 'system',
    error_message: message,
    stack_trace: null,
    started_at: now,
    completed_at: now,
    execution_time_ms: 0,
    steps: [],
    metrics: [],
    logs: [],
    outputs: {},
  };
}

/**
 * Turns an execution into case jobs. Safe to run twice for the same execution: case job ids
 * and the one-result-per-case rule make a second pass add nothing.
 */
export async function orchestrateExecution(
  job: RunExecutionJob,
  deps: OrchestratorDeps,
): Promise<void> {
  const { executions, results, skills, queues, logger } = deps;
  const log = logger.child({ execution_id: job.execution_id });

  // 1. An execution that already ended (e.g. marked as error) gets no new work.
  if (await executions.isFinal(job.execution_id)) {
    log.info('execution already finished; nothing to orchestrate');
    return;
  }
  await executions.markRunning(job.execution_id);

  // 2. Route each case to its skill's category queue; a case whose skill is gone is recorded
  //    as an error right away instead of being dropped.
  const byQueue = new Map<QueueName, CaseSnapshot[]>();
  for (const testCase of job.cases) {
    const skill = skills.get(testCase.skill_name);
    if (!skill) {
      await results.record(
        job.execution_id,
        testCase,
        notRunnable(`skill "${testCase.skill_name}" is not installed on this server`),
      );
      continue;
    }
    const queue = queueForCategory(skill.definition.category);
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), testCase]);
  }

  // 3. Fan out.
  for (const [queue, cases] of byQueue) {
    await queues.enqueueMany(
      queue,
      'run-case',
      cases.map((testCase) => ({
        payload: { execution_id: job.execution_id, case: testCase },
        jobId: jobIds.case(job.execution_id, testCase.case_id),
        priority: bullPriority(testCase.priority),
      })),
    );
  }
  log.info({ cases: job.cases.length, queues: [...byQueue.keys()] }, 'execution fanned out');

  // 4. If nothing was queued (every skill missing) the run is already complete.
  await executions.finalizeIfComplete(job.execution_id);
}
