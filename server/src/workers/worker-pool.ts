import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  AdvanceExecutionJob,
  CompensateCaseJob,
  DeliverNotificationJob,
  ExecutionDeadlineJob,
  NotifyExecutionJob,
  PruneArtifactsJob,
  RunCaseJob,
  RunCasesJob,
  ScheduledRunJob,
} from '@webguard/shared';
import { and, eq } from 'drizzle-orm';
import { pruneArtifacts } from '../artifacts/index.js';
import { ResultRepository } from '../db/result-repository.js';
import { executionCases, testExecutions, testSuites } from '../db/schema.js';
import { AppError } from '../errors.js';
import { systemErrorOutcome } from '../orchestration/outcomes.js';
import type { NotificationService } from '../notifications/index.js';
import { JOB_CATALOG, type JobName, type QueueName } from '../queues/job-catalog.js';
import type { ExecutionService } from '../services/execution-service.js';
import { compensateCaseJob, runCaseJob, runCasesJob, type CaseRunnerDeps } from './case-runner.js';
import { reapExecutions } from './reaper.js';

export interface WorkerDeps extends CaseRunnerDeps {
  executionService: ExecutionService;
  notifications?: NotificationService;
}

export interface WorkerPoolOptions {
  queues: QueueName[];
  concurrency: Record<QueueName, number>;
  connection: () => ConnectionOptions;
  prefix: string;
  stalledIntervalMs: number;
  deps: WorkerDeps;
  logger: Logger;
}

export interface WorkerPool {
  /** Stops taking jobs and waits for the running ones to finish. */
  close(): Promise<void>;
}

/** A case job's id, which its cases were queued under; every case job is added with one. */
function jobIdOf(job: Job): string {
  if (!job.id) throw new Error(`a ${job.name} job has no id, so no case can be claimed for it`);
  return job.id;
}

/** The processor of each job kind: parse the payload with its schema, then act. */
function processJob(job: Job, deps: WorkerDeps): Promise<unknown> {
  switch (job.name as JobName) {
    case 'run-case':
      return runCaseJob(RunCaseJob.parse(job.data), jobIdOf(job), deps);
    case 'run-cases':
      return runCasesJob(RunCasesJob.parse(job.data), jobIdOf(job), deps);
    case 'compensate-case':
      return compensateCaseJob(CompensateCaseJob.parse(job.data), deps);
    case 'advance-execution':
      return deps.coordinator.advance(AdvanceExecutionJob.parse(job.data).execution_id);
    case 'execution-deadline':
      return onDeadline(ExecutionDeadlineJob.parse(job.data).execution_id, deps);
    case 'reap-executions':
      return reapExecutions(deps);
    case 'prune-artifacts': {
      const { older_than_days } = PruneArtifactsJob.parse(job.data);
      if (!deps.artifacts) throw new Error('this worker has no artifact store to prune');
      return pruneArtifacts({
        ...deps.artifacts,
        olderThanDays: older_than_days,
        logger: deps.logger,
      });
    }
    case 'notify-execution':
      return (
        deps.notifications?.onExecutionFinished(NotifyExecutionJob.parse(job.data).execution_id) ??
        Promise.resolve()
      );
    case 'deliver-notification': {
      const attempt = job.attemptsMade + 1;
      const final =
        attempt >= (job.opts.attempts ?? JOB_CATALOG['deliver-notification'].options.attempts);
      if (!deps.notifications) throw new Error('this worker cannot deliver notifications');
      return deps.notifications.deliver(
        DeliverNotificationJob.parse(job.data).delivery_id,
        attempt,
        final,
      );
    }
    case 'scheduled-run':
      return onSchedule(ScheduledRunJob.parse(job.data).suite_id, tickOf(job), deps);
  }
  throw new Error(`unknown job "${job.name}"`);
}

async function onDeadline(executionId: number, deps: WorkerDeps): Promise<void> {
  const [row] = await deps.db
    .select({ minutes: testSuites.timeoutMinutes })
    .from(testExecutions)
    .innerJoin(testSuites, eq(testSuites.id, testExecutions.suiteId))
    .where(eq(testExecutions.id, executionId));
  if (!row) return;
  await deps.coordinator.cancel(executionId, {
    status: 'timeout',
    reason: `the suite's timeout of ${row.minutes} minute(s) was reached`,
  });
}

/** The cron tick a scheduler's job was made for (BullMQ records it as `prevMillis`). */
function tickOf(job: Job): Date {
  return new Date(job.opts.prevMillis ?? job.timestamp);
}

/**
 * A cron tick: run the suite; a suite that cannot run is logged, not retried forever. The tick
 * is the run's idempotency key, so a retried job (its worker died after the insert) or a
 * duplicate job for the same tick returns the run already started instead of starting another.
 */
async function onSchedule(suiteId: number, tick: Date, deps: WorkerDeps): Promise<void> {
  try {
    const result = await deps.executionService.trigger(
      { suite_id: suiteId, triggered_by: 'schedule' },
      { idempotencyKey: `schedule:${tick.toISOString()}` },
    );
    deps.logger.info(
      { suite_id: suiteId, execution_id: result.execution_id, tick, replayed: result.replayed },
      result.replayed ? 'scheduled run already started for this tick' : 'scheduled run started',
    );
  } catch (error) {
    if (error instanceof AppError && error.statusCode < 500) {
      deps.logger.warn({ suite_id: suiteId, reason: error.message }, 'scheduled run skipped');
      return;
    }
    throw error;
  }
}

/** The case attempts a run-case or run-cases job was for. */
function attemptsOf(job: Job): { executionId: number; attempts: RunCaseJob[] } | undefined {
  if (job.name === 'run-case') {
    const data = RunCaseJob.parse(job.data);
    return { executionId: data.execution_id, attempts: [data] };
  }
  if (job.name === 'run-cases') {
    const data = RunCasesJob.parse(job.data);
    const attempts = data.cases.map((c) => ({ execution_id: data.execution_id, ...c }));
    return { executionId: data.execution_id, attempts };
  }
  return undefined;
}

/**
 * Records the last word on a case job that failed every attempt, so its run does not hang: each
 * of its cases still open at the job's attempt ends as a system error.
 */
async function onFinalFailure(job: Job, error: Error, deps: WorkerDeps): Promise<void> {
  const cases = attemptsOf(job);
  if (!cases) return;
  for (const data of cases.attempts) {
    await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(executionCases)
        .where(
          and(
            eq(executionCases.executionId, data.execution_id),
            eq(executionCases.caseId, data.case_id),
          ),
        );
      // Only a case still waiting for this very attempt: not one that ended, was cancelled or
      // skipped meanwhile, or went on to a retry.
      const open = row?.state === 'queued' || row?.state === 'running';
      if (!row || !open || row.attempt !== data.attempt) return;
      await new ResultRepository(tx).record(
        data.execution_id,
        { caseId: row.caseId, name: row.name, skillName: row.skillName },
        systemErrorOutcome(
          `the worker could not run or record this case after ${job.attemptsMade} attempts: ${error.message}`,
        ),
        row.attempt,
      );
      await tx
        .update(executionCases)
        .set({ state: 'done', resultStatus: 'error', finishedAt: new Date() })
        .where(eq(executionCases.id, row.id));
    });
  }
  await deps.coordinator.advance(cases.executionId);
}

/** One BullMQ worker per served queue, each with its own concurrency. */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const { deps, logger } = options;
  const workers = options.queues.map((queue) => {
    const worker = new Worker(queue, (job) => processJob(job, deps), {
      connection: options.connection(),
      prefix: options.prefix,
      concurrency: options.concurrency[queue],
      stalledInterval: options.stalledIntervalMs,
      lockDuration: options.stalledIntervalMs,
      // A case whose worker died is handed to another worker, twice at most.
      maxStalledCount: 2,
    });
    worker.on('failed', (job, error) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      logger.error(
        { queue, job: job.name, job_id: job.id, attempt: job.attemptsMade, final, err: error },
        'job failed',
      );
      if (final) {
        onFinalFailure(job, error, deps).catch((recordError: unknown) =>
          logger.error(
            { queue, job_id: job.id, err: recordError },
            'could not record the failed job',
          ),
        );
      }
    });
    worker.on('error', (error) => logger.error({ queue, err: error }, 'worker error'));
    return worker;
  });
  logger.info(
    {
      queues: Object.fromEntries(
        options.queues.map((queue) => [queue, options.concurrency[queue]]),
      ),
    },
    'workers started',
  );
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
