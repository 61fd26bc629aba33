import type { Logger } from 'pino';
import type {
  Execution,
  Suite,
  TestCase,
  TriggerExecutionBody,
  TriggerExecutionResponse,
} from '@webguard/shared';
import type { Database } from '../db/database.js';
import type { EnvironmentRepository } from '../db/environment-repository.js';
import { ExecutionRepository } from '../db/execution-repository.js';
import { ResultRepository } from '../db/result-repository.js';
import { CaseRepository } from '../db/case-repository.js';
import { SuiteRepository } from '../db/suite-repository.js';
import { AppError, isUniqueViolation, notFound } from '../errors.js';
import type { ExecutionCoordinator, OpenedRun } from '../orchestration/execution-coordinator.js';
import { compareDispatchOrder, resolveDependencies } from '../orchestration/workflow-graph.js';
import { EXECUTIONS_QUEUE, jobIds } from '../queues/job-catalog.js';
import type { SkillRegistry } from '../skills/index.js';
import type { JobQueues } from '../queues/job-queues.js';
import type { RunEventSink } from '../live/index.js';
import { failSpan, tracer, type ExecutionTraces } from '../telemetry/index.js';

export interface ExecutionServiceDeps {
  db: Database;
  environments: EnvironmentRepository;
  coordinator: ExecutionCoordinator;
  queues: JobQueues;
  /** Resolves each case's skill version when the run starts. */
  skills: SkillRegistry;
  /** Retries of a case without its own `retries` when its suite retries on failure. */
  defaultRetries: number;
  logger: Logger;
  /** Where the run's live events go. */
  events?: RunEventSink;
  /** Keeps each run's trace context for its jobs. */
  traces?: ExecutionTraces;
}

/** A trigger whose suite is already resolved to its id (a name is resolved at the API edge). */
export type TriggerRequest = Omit<
  TriggerExecutionBody,
  'suite_id' | 'suite_name' | 'project_id'
> & {
  suite_id: number;
};

export interface TriggerOptions {
  idempotencyKey?: string | undefined;
  /** For reruns: only these cases, and the execution this one repeats. */
  caseIds?: number[];
  rerunOf?: number;
}

export interface TriggerResult extends TriggerExecutionResponse {
  /** True when an earlier trigger with the same key or commit is returned instead. */
  replayed: boolean;
}

const queueUnavailable = () =>
  new AppError(
    503,
    'SERVICE_UNAVAILABLE',
    'the job queue (Redis) is unavailable; try again shortly',
  );

const respond = (execution: Execution, replayed: boolean): TriggerResult => ({
  execution_id: execution.id,
  status: execution.status,
  total_tests: execution.total_tests,
  replayed,
});

/** Starting runs: the one place that turns a trigger into a recorded, dispatched execution. */
export class ExecutionService {
  private readonly suites: SuiteRepository;
  private readonly cases: CaseRepository;
  private readonly executions: ExecutionRepository;
  private readonly results: ResultRepository;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.suites = new SuiteRepository(deps.db);
    this.cases = new CaseRepository(deps.db);
    this.executions = new ExecutionRepository(deps.db);
    this.results = new ResultRepository(deps.db);
  }

  /** Starts a run in its own trace span; every job of the run continues that trace. */
  trigger(body: TriggerRequest, options: TriggerOptions = {}): Promise<TriggerResult> {
    return tracer().startActiveSpan('execution.trigger', async (span) => {
      span.setAttribute('webguard.triggered_by', body.triggered_by);
      try {
        const result = await this.startRun(body, options);
        span.setAttribute('webguard.execution_id', result.execution_id);
        span.setAttribute('webguard.replayed', result.replayed);
        return result;
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  private async startRun(body: TriggerRequest, options: TriggerOptions): Promise<TriggerResult> {
    const { db, logger } = this.deps;

    // 1. Resolve the suite and the environment it runs against.
    const suite = await this.suites.find(body.suite_id);
    if (!suite) throw notFound('suite', body.suite_id);
    if (!suite.enabled)
      throw new AppError(
        409,
        'CONFLICT',
        `suite "${suite.name}" is disabled; enable it before running it`,
      );
    // Environments are named per project: the suite's project is where the name is looked up.
    const environment = body.environment
      ? await this.deps.environments.findByName(body.environment, suite.project_id)
      : undefined;
    if (body.environment && !environment)
      throw new AppError(
        404,
        'NOT_FOUND',
        `environment ${JSON.stringify(body.environment)} does not exist in the project of suite "${suite.name}"`,
      );

    // 2. A repeated trigger returns the run it already started: same Idempotency-Key, or a CI
    //    trigger for a commit whose run of this suite is still going.
    if (options.idempotencyKey) {
      const existing = await this.executions.findByIdempotencyKey(suite.id, options.idempotencyKey);
      if (existing) return respond(existing, true);
    } else if (body.ci_commit_sha && body.triggered_by === 'ci') {
      const existing = await this.executions.findOpenForCommit(suite.id, body.ci_commit_sha);
      if (existing) return respond(existing, true);
    }

    // 3. Snapshot the cases: edits made after this point do not change this run.
    const allCases = await this.cases.listAll(suite.id);
    const runnable = allCases.filter(
      (testCase) => testCase.enabled && (!options.caseIds || options.caseIds.includes(testCase.id)),
    );
    if (runnable.length === 0)
      throw new AppError(422, 'SUITE_EMPTY', `suite "${suite.name}" has no enabled cases to run`);
    const rows = await this.planCases(suite, allCases, runnable);
    // Nothing is recorded while the job queue is unreachable: the caller retries later instead
    // of finding a run that never started.
    await this.assertQueueReachable();

    // 4. Record the execution and its cases in one transaction, the first cases to run queued.
    let execution: Execution;
    let opened: OpenedRun;
    try {
      ({ execution, opened } = await db.transaction(async (tx) => {
        const executions = new ExecutionRepository(tx);
        const created = await executions.create({
          suiteId: suite.id,
          totalTests: rows.length,
          triggeredBy: body.triggered_by,
          ciCommitSha: body.ci_commit_sha,
          ciBranch: body.ci_branch,
          environment: environment && { id: environment.id, name: environment.name },
          idempotencyKey: options.idempotencyKey,
          rerunOf: options.rerunOf,
        });
        return {
          execution: created,
          opened: await this.deps.coordinator.open(
            tx,
            created.id,
            rows,
            suite.max_concurrent_tests,
          ),
        };
      }));
    } catch (error) {
      if (options.idempotencyKey && isUniqueViolation(error)) {
        const existing = await this.executions.findByIdempotencyKey(
          suite.id,
          options.idempotencyKey,
        );
        if (existing) return respond(existing, true);
      }
      throw error;
    }

    await this.deps.traces?.remember(execution.id);
    await this.deps.events?.publish({
      type: 'execution.queued',
      execution_id: execution.id,
      suite_id: suite.id,
      suite_name: suite.name,
      total_tests: rows.length,
      triggered_by: body.triggered_by,
    });

    // 5. Queue the first cases' jobs and arm the suite timeout. If Redis is down the execution
    //    is closed as `error` with the reason, so nothing is left looking as if it will still run.
    try {
      await this.deps.queues.enqueue(
        EXECUTIONS_QUEUE,
        'execution-deadline',
        { execution_id: execution.id },
        { jobId: jobIds.deadline(execution.id), delay: suite.timeout_minutes * 60_000 },
      );
      await this.deps.coordinator.launch(opened);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await this.executions.markError(execution.id, `could not queue the run: ${reason}`);
      logger.error({ execution_id: execution.id, err: reason }, 'could not queue execution');
      throw queueUnavailable();
    }
    logger.info(
      {
        execution_id: execution.id,
        suite: suite.name,
        cases: rows.length,
        triggered_by: body.triggered_by,
        environment: environment?.name,
      },
      'execution queued',
    );
    return respond(await this.executions.get(execution.id), false);
  }

  /** Fails at once with 503 while the producer's Redis connection is down (it reconnects alone). */
  private async assertQueueReachable(): Promise<void> {
    const client = await this.deps.queues.queue(EXECUTIONS_QUEUE).client;
    if (client.status === 'ready') return;
    this.deps.logger.warn(
      { redis: client.status },
      'trigger refused: the job queue (Redis) is unreachable',
    );
    throw queueUnavailable();
  }

  /** Runs again the cases of an execution that did not pass (or all of them), as a new run. */
  async rerun(
    executionId: number,
    only: 'failed' | 'all',
    idempotencyKey?: string,
  ): Promise<TriggerResult> {
    const original = await this.executions.getWithResults(executionId);
    const caseIds = original.results
      .filter((result) => only === 'all' || result.status !== 'passed')
      .map((result) => result.test_case_id)
      .filter((id): id is number => id !== null);
    if (caseIds.length === 0) {
      throw new AppError(
        422,
        'SUITE_EMPTY',
        `execution ${executionId} has no ${only === 'failed' ? 'failed ' : ''}cases to run again`,
      );
    }
    return this.trigger(
      {
        suite_id: original.suite_id,
        triggered_by: 'rerun',
        ci_commit_sha: original.ci_commit_sha ?? undefined,
        ci_branch: original.ci_branch ?? undefined,
        environment: original.environment ?? undefined,
      },
      { caseIds, rerunOf: executionId, idempotencyKey },
    );
  }

  /**
   * Turns the run's cases (of all the suite's) into the run's plan: dependencies resolved to
   * case names (a dependency on a case outside this run is dropped), retries settled, and a
   * dispatch order from priority and history.
   */
  private async planCases(suite: Suite, allCases: TestCase[], cases: TestCase[]) {
    const { edges, problems } = resolveDependencies(
      allCases.map((testCase) => ({
        name: testCase.name,
        group: testCase.group,
        dependsOn: testCase.depends_on,
      })),
    );
    if (problems.length > 0) {
      throw new AppError(
        422,
        'VALIDATION_FAILED',
        `suite "${suite.name}" has a broken workflow: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        problems,
      );
    }
    const inRun = new Set(cases.map((testCase) => testCase.name));
    const history = await this.results.recentResults(cases.map((testCase) => testCase.id));
    const ordered = cases
      .map((testCase) => ({
        testCase,
        priority: testCase.priority,
        history: history.get(testCase.id) ?? { failedLastTime: false, averageMs: null },
      }))
      .sort(compareDispatchOrder);
    return ordered.map(({ testCase, history }, index) => ({
      caseId: testCase.id,
      name: testCase.name,
      skillName: testCase.skill_name,
      // The exact version from now on, so every attempt runs the same one; a pin nothing
      // satisfies is kept as it is and fails the case with the installed versions.
      skillVersion:
        this.deps.skills.get(testCase.skill_name, testCase.skill_version)?.info.version ??
        testCase.skill_version,
      params: testCase.params,
      dependsOn: (edges.get(testCase.name) ?? []).filter((name) => inRun.has(name)),
      priority: testCase.priority,
      timeoutSeconds: testCase.timeout_seconds,
      retries: testCase.retries ?? (suite.retry_on_failure ? this.deps.defaultRetries : 0),
      dispatchOrder: index,
      expectedMs: history.averageMs === null ? null : Math.round(history.averageMs),
    }));
  }
}
