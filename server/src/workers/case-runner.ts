import type { Logger } from 'pino';
import type { CaseOutcome, Execution, RunCaseJob } from '@webguard/shared';
import type { ExecutionRepository, ResultRepository } from '../db/index.js';
import { runCase } from '../engine/index.js';
import type { SkillRegistry } from '../skills/index.js';

export interface CaseRunnerDeps {
  executions: ExecutionRepository;
  results: ResultRepository;
  skills: SkillRegistry;
  logger: Logger;
  /** Called when the last result closes the execution. */
  onExecutionFinished?: (execution: Execution) => void;
}

function skillMissing(name: string): CaseOutcome {
  const now = new Date().toISOString();
  return {
    status: 'error',
    error_type: 'system',
    error_message: `skill "${name}" is not installed on the worker that picked up this case`,
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
 * Runs one case and records its result. BullMQ may deliver a job twice (a stalled worker, a
 * retry after a failed write), so a case that already has a result is not run again.
 */
export async function runCaseJob(
  job: RunCaseJob,
  deps: CaseRunnerDeps,
  signal?: AbortSignal,
): Promise<CaseOutcome['status'] | 'duplicate'> {
  const { executions, results, skills, logger } = deps;
  const testCase = job.case;
  const log = logger.child({
    execution_id: job.execution_id,
    case_id: testCase.case_id,
    case: testCase.name,
  });

  // 1. Skip work that is already recorded or no longer wanted.
  if (await results.exists(job.execution_id, testCase.case_id)) {
    log.info('case already has a result; not running it again');
    await finalize(job.execution_id, deps);
    return 'duplicate';
  }
  if (await executions.isFinal(job.execution_id)) {
    log.info('execution already finished; case not run');
    return 'duplicate';
  }
  await executions.markRunning(job.execution_id);

  // 2. Run it in the engine; the engine never throws, it reports.
  const skill = skills.get(testCase.skill_name);
  const outcome = skill
    ? await runCase({
        skill: skill.definition,
        params: testCase.params,
        caseName: testCase.name,
        executionId: job.execution_id,
        timeoutMs: testCase.timeout_seconds * 1000,
        signal,
        logger: log,
      })
    : skillMissing(testCase.skill_name);
  log.info(
    {
      status: outcome.status,
      error_type: outcome.error_type,
      duration_ms: outcome.execution_time_ms,
    },
    'case finished',
  );

  // 3. Record exactly once, then close the execution if this was its last case.
  await results.record(job.execution_id, testCase, outcome);
  await finalize(job.execution_id, deps);
  return outcome.status;
}

async function finalize(executionId: number, deps: CaseRunnerDeps): Promise<void> {
  const closed = await deps.executions.finalizeIfComplete(executionId);
  if (closed) {
    deps.logger.info(
      {
        execution_id: closed.id,
        status: closed.status,
        passed: closed.passed_tests,
        failed: closed.failed_tests,
      },
      'execution finished',
    );
    deps.onExecutionFinished?.(closed);
  }
}
