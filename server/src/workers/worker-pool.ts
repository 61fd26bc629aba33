import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { RunCaseJob, RunExecutionJob } from '@webguard/shared';
import { EXECUTIONS_QUEUE, type QueueName } from '../queues/job-catalog.js';
import { runCaseJob, type CaseRunnerDeps } from './case-runner.js';
import { orchestrateExecution, type OrchestratorDeps } from './execution-orchestrator.js';

export type WorkerDeps = CaseRunnerDeps & OrchestratorDeps;

export interface WorkerPoolOptions {
  queues: QueueName[];
  concurrency: Record<QueueName, number>;
  connection: () => ConnectionOptions;
  prefix: string;
  deps: WorkerDeps;
  logger: Logger;
}

export interface WorkerPool {
  /** Stops taking jobs and waits for the running ones to finish. */
  close(): Promise<void>;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Records the last word on a job that failed every attempt, so its run does not hang. */
async function onFinalFailure(
  queue: QueueName,
  job: Job,
  error: Error,
  deps: WorkerDeps,
): Promise<void> {
  if (queue === EXECUTIONS_QUEUE) {
    const data = RunExecutionJob.parse(job.data);
    await deps.executions.markError(data.execution_id, `could not start the run: ${error.message}`);
    return;
  }
  const data = RunCaseJob.parse(job.data);
  const now = new Date().toISOString();
  await deps.results.record(
    data.execution_id,
    data.case,
    {
      status: 'error',
      error_type: 'system',
      error_message: `the worker could not run or record this case after ${job.attemptsMade} attempts: ${error.message}`,
      stack_trace: error.stack ?? null,
      started_at: now,
      completed_at: now,
      execution_time_ms: 0,
      steps: [],
      metrics: [],
      logs: [],
      outputs: {},
    },
    job.attemptsMade,
  );
  await deps.executions.finalizeIfComplete(data.execution_id);
}

/** One BullMQ worker per served queue, each with its own concurrency. */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const { deps, logger } = options;
  const workers = options.queues.map((queue) => {
    const processor = async (job: Job) => {
      if (queue === EXECUTIONS_QUEUE) {
        await orchestrateExecution(RunExecutionJob.parse(job.data), deps);
        return;
      }
      return runCaseJob(RunCaseJob.parse(job.data), deps);
    };
    const worker = new Worker(queue, processor, {
      connection: options.connection(),
      prefix: options.prefix,
      concurrency: options.concurrency[queue],
    });
    worker.on('failed', (job, error) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      logger.error(
        { queue, job_id: job.id, attempt: job.attemptsMade, final, err: error },
        'job failed',
      );
      if (final) {
        onFinalFailure(queue, job, error, deps).catch((recordError: unknown) =>
          logger.error(
            { queue, job_id: job.id, err: errorMessage(recordError) },
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
