import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type {
  CaseOutcome,
  CompensateCaseJob,
  ErrorType,
  JsonObject,
  RunCaseJob,
  RunCasesJob,
} from '@webguard/shared';
import { CaseArtifacts, type ArtifactStore } from '../artifacts/index.js';
import type { ArtifactRepository } from '../db/artifact-repository.js';
import type { Database } from '../db/database.js';
import type { EnvironmentRepository } from '../db/environment-repository.js';
import type { CaseLedger, ClaimedCase, ClosingState } from '../db/case-ledger.js';
import { ResultRepository } from '../db/result-repository.js';
import { executionCases } from '../db/schema.js';
import { retryDelayMs } from '../orchestration/backoff.js';
import type { RunningCases } from '../orchestration/cancel-bus.js';
import type { CaseRow, ExecutionCoordinator } from '../orchestration/execution-coordinator.js';
import { skippedOutcome, systemErrorOutcome } from '../orchestration/outcomes.js';
import { resolveReferences, UnresolvedReferenceError } from '../orchestration/param-references.js';
import { jobIds, queueForCategory } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';
import {
  attemptNumber,
  caseFinishedEvent,
  caseQueuedEvent,
  type FramePublisher,
  type RunEventSink,
} from '../live/index.js';
import type { WebGuardMetrics } from '../metrics/index.js';
import { startCaseSpan, type ExecutionTraces } from '../telemetry/index.js';
import type { CaseEngine } from '../sandbox/index.js';
import type { SkillRegistry } from '../skills/index.js';
import { loadCaseScope } from './case-scope.js';

export interface CaseRunnerDeps {
  db: Database;
  coordinator: ExecutionCoordinator;
  environments: EnvironmentRepository;
  skills: SkillRegistry;
  queues: JobQueues;
  running: RunningCases;
  retry: { baseMs: number; maxMs: number; retryable: readonly ErrorType[] };
  logger: Logger;
  /** Claims and closes this worker's cases, batched. */
  ledger: CaseLedger;
  /** Runs the skills' code, isolated from the worker unless configured otherwise. */
  engine: CaseEngine;
  /** Where cases keep screenshots, videos, traces, logs and attachments. */
  artifacts?: { store: ArtifactStore; repository: ArtifactRepository };
  /** Where the run's live events go. */
  events?: RunEventSink;
  /** Live browser frames of browser cases, while someone watches. */
  frames?: FramePublisher;
  /** Counts running cases and recorded results for Prometheus. */
  metrics?: WebGuardMetrics;
  /** The run's trace, continued by each case attempt and its steps. */
  traces?: ExecutionTraces;
}

export type CaseJobResult = CaseOutcome['status'] | 'retrying' | 'stale';

async function loadRow(
  db: Database,
  executionId: number,
  caseId: number,
): Promise<CaseRow | undefined> {
  const [row] = await db
    .select()
    .from(executionCases)
    .where(and(eq(executionCases.executionId, executionId), eq(executionCases.caseId, caseId)));
  return row;
}

/** An attempt that ended and waits to be recorded with the others of its job. */
interface EndedAttempt {
  row: CaseRow;
  outcome: CaseOutcome;
  /** `cancelled` for a case whose run was stopped while it waited its turn in the job. */
  state: ClosingState;
  artifacts: CaseArtifacts | undefined;
  log: Logger;
}

/**
 * Runs one attempt of one case and records what happened. BullMQ may deliver the job twice
 * (a stalled worker, a retried write), so the case's row decides: an attempt that is no longer
 * the current one, or a case already ended, is not run again.
 */
export async function runCaseJob(job: RunCaseJob, deps: CaseRunnerDeps): Promise<CaseJobResult> {
  const [result] = await runAttempts(job.execution_id, [job], deps);
  return result!;
}

/**
 * Runs the cases of a shared job one after the other, each as its own attempt (run, retried or
 * recorded as if it had a job of its own), then records them together and lets the run move on
 * once. A case whose run is cancelled while it waits its turn is not run: it ends cancelled.
 */
export async function runCasesJob(
  job: RunCasesJob,
  deps: CaseRunnerDeps,
): Promise<CaseJobResult[]> {
  return runAttempts(job.execution_id, job.cases, deps);
}

async function runAttempts(
  executionId: number,
  attempts: readonly { case_id: number; attempt: number }[],
  deps: CaseRunnerDeps,
): Promise<CaseJobResult[]> {
  const jobs = attempts.map(({ case_id, attempt }) => ({
    execution_id: executionId,
    case_id,
    attempt,
  }));
  // 1. Claim them together: only current attempts of cases still queued or running run. From
  //    here a cancel from any process reaches each of them, running or waiting its turn.
  const claims = await Promise.all(jobs.map((job) => deps.ledger.claim(job)));
  const watches = claims.map((claimed) => claimed && deps.running.start(executionId));
  const results: CaseJobResult[] = [];
  const ended: EndedAttempt[] = [];
  try {
    for (const [index, job] of jobs.entries()) {
      const claimed = claims[index];
      const running = watches[index];
      const log = deps.logger.child(job);
      if (!claimed || !running) {
        log.debug('stale case job; nothing to do');
        results.push('stale');
        continue;
      }
      if (running.signal.aborted) {
        ended.push({
          row: claimed.row,
          outcome: skippedOutcome('cancelled: its run was stopped before it started'),
          state: 'cancelled',
          artifacts: undefined,
          log,
        });
        results.push('skipped');
        continue;
      }
      // 2. Run it; a retryable failure goes back on the queue instead of being recorded.
      const attempted = await runAttempt(job, claimed, running.signal, log, deps);
      results.push(attempted.retrying ? 'retrying' : attempted.outcome.status);
      if (!attempted.retrying) ended.push(attempted);
    }
  } finally {
    for (const running of watches) running?.done();
  }
  // 3. Record what ended in one write, then let the coordinator move the run on.
  if (ended.length > 0) {
    await recordAttempts(ended, deps);
    await deps.coordinator.advance(executionId);
  }
  return results;
}

/**
 * Runs a claimed attempt in the engine, abortable by a cancel from any process. A retryable
 * failure with retries left goes back on the queue after a backoff instead of being recorded.
 */
async function runAttempt(
  job: RunCaseJob,
  { row, environmentId }: ClaimedCase,
  signal: AbortSignal,
  log: Logger,
  deps: CaseRunnerDeps,
): Promise<EndedAttempt & { retrying: boolean }> {
  const { db, skills } = deps;
  const { scope, secrets, mask } = await loadCaseScope(
    db,
    deps.environments,
    { executionId: job.execution_id, environmentId },
    row.params,
  );
  const found = skills.find(row.skillName, row.skillVersion);
  const skill = found.ok ? found.skill : undefined;
  const events = deps.events;
  const ref = { execution_id: job.execution_id, case_id: job.case_id, case_name: row.name };
  void events?.publish({
    type: 'case.started',
    ...ref,
    skill_name: row.skillName,
    attempt: attemptNumber(row.attempt),
  });
  const span =
    deps.traces &&
    startCaseSpan(await deps.traces.parentOf(job.execution_id), {
      executionId: job.execution_id,
      caseId: job.case_id,
      caseName: row.name,
      skill: row.skillName,
      attempt: attemptNumber(row.attempt),
    });
  const caseEnded = deps.metrics?.caseStarted();
  const caseArtifacts =
    deps.artifacts && CaseArtifacts.forCase(deps.artifacts.store, job.execution_id, job.case_id);
  let outcome: CaseOutcome;
  try {
    if (!found.ok) {
      outcome = systemErrorOutcome(`${found.reason} on the worker that picked up this case`);
    } else {
      let params: JsonObject | undefined;
      try {
        params = resolveReferences(row.params, scope).params;
      } catch (error) {
        if (!(error instanceof UnresolvedReferenceError)) throw error;
        outcome = systemErrorOutcome(mask(error.message));
      }
      const run = () =>
        deps.engine.run({
          skill: found.skill,
          params,
          caseName: row.name,
          executionId: job.execution_id,
          timeoutMs: row.timeoutSeconds * 1000,
          signal,
          logger: log,
          secrets,
          artifacts: caseArtifacts,
          frames: deps.frames?.forCase(job.execution_id, job.case_id, row.name),
          onLog: events && ((entry) => void events.publish({ type: 'log', ...ref, entry })),
          onStepStart: (step) => {
            void events?.publish({ type: 'step.started', ...ref, ...step });
            span?.stepStarted(step.name);
          },
          onStep: (step) => {
            void events?.publish({ type: 'step.finished', ...ref, step });
            span?.stepFinished(step);
          },
          onMetric: events && ((metric) => void events.publish({ type: 'metric', ...ref, metric })),
        });
      outcome ??= await (span ? span.run(run) : run());
    }
  } finally {
    caseEnded?.();
  }
  span?.end(outcome);
  log.info(
    {
      status: outcome.status,
      error_type: outcome.error_type,
      duration_ms: outcome.execution_time_ms,
    },
    'case attempt finished',
  );
  const ran = { row, outcome, state: 'done' as const, artifacts: caseArtifacts, log };

  const retryable =
    outcome.status !== 'passed' &&
    outcome.error_type !== null &&
    deps.retry.retryable.includes(outcome.error_type) &&
    row.attempt < row.retries &&
    !signal.aborted;
  if (!retryable || !skill) return { ...ran, retrying: false };
  const attempt = row.attempt + 1;
  const jobId = jobIds.runCase(job.execution_id, job.case_id, attempt);
  const moved = await db
    .update(executionCases)
    // A fresh queued_at keeps the reaper from taking the retry's delay for a lost job.
    .set({ attempt, state: 'queued', queuedAt: new Date(), jobId })
    .where(and(eq(executionCases.id, row.id), eq(executionCases.attempt, row.attempt)))
    .returning({ id: executionCases.id });
  void events?.publish(
    caseFinishedEvent(row, outcome, row.attempt, { willRetry: moved.length > 0, resultId: null }),
  );
  if (moved.length > 0) {
    await events?.publish(caseQueuedEvent(row, attempt));
    const delay = retryDelayMs(attempt, deps.retry.baseMs, deps.retry.maxMs);
    await deps.queues.enqueue(
      queueForCategory(skill.definition.category),
      'run-case',
      { execution_id: job.execution_id, case_id: job.case_id, attempt },
      { jobId, delay },
    );
    log.info(
      { next_attempt: attempt, delay_ms: delay, error: outcome.error_message },
      'case will be retried',
    );
  }
  await caseArtifacts?.discard(log);
  return { ...ran, retrying: true };
}

/** Records attempts' results in one write, then their artifacts and live events. */
async function recordAttempts(ended: readonly EndedAttempt[], deps: CaseRunnerDeps): Promise<void> {
  const closed = await Promise.all(
    ended.map(({ row, outcome, state }) => deps.ledger.close(row, outcome, state)),
  );
  const events = deps.events;
  for (const [index, { row, outcome, artifacts: caseArtifacts, log }] of ended.entries()) {
    deps.metrics?.caseRecorded(row.skillName, outcome.status, outcome.execution_time_ms);
    const artifacts =
      deps.artifacts &&
      (await caseArtifacts?.commit(deps.artifacts.repository, row.executionId, row.caseId, log));
    if (!events) continue;
    const ref = { execution_id: row.executionId, case_id: row.caseId, case_name: row.name };
    for (const artifact of artifacts ?? []) {
      const { id, kind, name, content_type, size_bytes, url } = artifact;
      void events.publish({
        type: 'artifact.added',
        ...ref,
        artifact: { id, kind, name, content_type, size_bytes, url },
      });
    }
    void events.publish(
      caseFinishedEvent(row, outcome, row.attempt, {
        willRetry: false,
        resultId: closed[index]!.resultId,
      }),
    );
  }
}

/** Undoes a passed case's work after its run failed, then lets the run move on. */
export async function compensateCaseJob(
  job: CompensateCaseJob,
  deps: CaseRunnerDeps,
): Promise<void> {
  const { db, skills, logger } = deps;
  const row = await loadRow(db, job.execution_id, job.case_id);
  if (!row || row.compensationState !== 'queued') return;
  const skill = skills.get(row.skillName, row.skillVersion);
  const { scope, secrets } = await loadCaseScope(
    db,
    deps.environments,
    { executionId: job.execution_id },
    row.params,
  );
  let params: JsonObject = row.params;
  try {
    params = resolveReferences(row.params, scope).params;
  } catch (error) {
    if (!(error instanceof UnresolvedReferenceError)) throw error;
  }
  const record = skill
    ? await deps.engine.compensate({
        skill,
        params,
        outputs: row.outputs ?? {},
        caseName: row.name,
        executionId: job.execution_id,
        timeoutMs: row.timeoutSeconds * 1000,
        logger,
        secrets,
      })
    : {
        status: 'failed' as const,
        started_at: new Date().toISOString(),
        duration_ms: 0,
        error: `skill "${row.skillName}" is not installed`,
      };
  await new ResultRepository(db).setCompensation(job.execution_id, job.case_id, record);
  await db
    .update(executionCases)
    .set({ compensationState: 'done' })
    .where(eq(executionCases.id, row.id));
  logger.info(
    { execution_id: job.execution_id, case: row.name, status: record.status },
    'case compensated',
  );
  await deps.coordinator.advance(job.execution_id);
}
