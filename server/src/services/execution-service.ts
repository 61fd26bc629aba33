import type { Logger } from 'pino';
import type {
  CaseSnapshot,
  TriggerExecutionBody,
  TriggerExecutionResponse,
} from '@webguard/shared';
import type { CaseRepository, ExecutionRepository, SuiteRepository } from '../db/index.js';
import { AppError, notFound } from '../errors.js';
import { EXECUTIONS_QUEUE, jobIds } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';

export interface ExecutionServiceDeps {
  suites: SuiteRepository;
  cases: CaseRepository;
  executions: ExecutionRepository;
  queues: JobQueues;
  logger: Logger;
}

/** Starting runs: the one place that turns a trigger into a recorded, queued execution. */
export class ExecutionService {
  constructor(private readonly deps: ExecutionServiceDeps) {}

  async trigger(body: TriggerExecutionBody): Promise<TriggerExecutionResponse> {
    const { suites, cases, executions, queues, logger } = this.deps;

    // 1. Resolve the suite by id or by name.
    const suite =
      body.suite_id !== undefined
        ? await suites.find(body.suite_id)
        : await suites.findByName(body.suite_name ?? '');
    if (!suite) throw notFound('suite', body.suite_id ?? body.suite_name ?? '');
    if (!suite.enabled) {
      throw new AppError(
        409,
        'CONFLICT',
        `suite "${suite.name}" is disabled; enable it before running it`,
      );
    }

    // 2. Snapshot its enabled cases: edits made after this point do not change this run.
    const runnable = await cases.listRunnable(suite.id);
    if (runnable.length === 0) {
      throw new AppError(422, 'SUITE_EMPTY', `suite "${suite.name}" has no enabled cases to run`);
    }
    const snapshots: CaseSnapshot[] = runnable.map((testCase) => ({
      case_id: testCase.id,
      name: testCase.name,
      skill_name: testCase.skill_name,
      params: testCase.params,
      priority: testCase.priority,
      timeout_seconds: testCase.timeout_seconds,
    }));

    // 3. Record it, then queue it. If queueing fails the execution is closed as `error` with
    //    the reason, so nothing is left looking as if it will still run.
    const execution = await executions.create({
      suiteId: suite.id,
      totalTests: snapshots.length,
      triggeredBy: body.triggered_by,
      ciCommitSha: body.ci_commit_sha,
      ciBranch: body.ci_branch,
    });
    try {
      await queues.enqueue(
        EXECUTIONS_QUEUE,
        'run-execution',
        { execution_id: execution.id, cases: snapshots },
        { jobId: jobIds.execution(execution.id) },
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await executions.markError(execution.id, `could not queue the run: ${reason}`);
      logger.error({ execution_id: execution.id, err: reason }, 'could not queue execution');
      throw new AppError(
        503,
        'SERVICE_UNAVAILABLE',
        'the job queue (Redis) is unavailable; try again shortly',
      );
    }
    logger.info(
      {
        execution_id: execution.id,
        suite: suite.name,
        cases: snapshots.length,
        triggered_by: body.triggered_by,
      },
      'execution queued',
    );
    return {
      execution_id: execution.id,
      status: execution.status,
      total_tests: execution.total_tests,
    };
  }
}
