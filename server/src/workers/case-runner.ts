import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type {
  CaseOutcome,
  CompensateCaseJob,
  ErrorType,
  JsonObject,
  RunCaseJob,
  RunCasesJob,
  SkillCategory,
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
import { startCaseSpan, type CaseSpan, type ExecutionTraces } from '../telemetry/index.js';
import type { CaseEngine, EngineCaseInput } from '../sandbox/index.js';
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
 * the current one, a job the case is no longer queued in, or a case already ended, is not run
 * again.
 */
export async function runCaseJob(
  job: RunCaseJob,
  jobId: string,
  deps: CaseRunnerDeps,
): Promise<CaseJobResult> {
  const [result] = await runAttempts(job.execution_id, [job], jobId, deps);
  return result!;
}

/**
 * Runs the cases of a shared job one after the other, each as its own attempt (run, retried or
 * recorded as if it had a job of its own), then records them together and lets the run move on
 * once. A case whose run is cancelled while it waits its turn is not run: it ends cancelled.
 */
export async function runCasesJob(
  job: RunCasesJob,
  jobId: string,
  deps: CaseRunnerDeps,
): Promise<CaseJobResult[]> {
  return runAttempts(job.execution_id, job.cases, jobId, deps);
}

async function runAttempts(
  executionId: number,
  attempts: readonly { case_id: number; attempt: number }[],
  jobId: string,
  deps: CaseRunnerDeps,
): Promise<CaseJobResult[]> {
  const jobs = attempts.map(({ case_id, attempt }) => ({
    execution_id: executionId,
    case_id,
    attempt,
    job_id: jobId,
  }));
  // 1. Claim them together: only current attempts of cases still queued or running run. From
  //    here a cancel from any process reaches each of them, running or waiting its turn.
  const claims = await Promise.all(jobs.map((job) => deps.ledger.claim(job)));
  const watches = claims.map((claimed) => claimed && deps.running.start(executionId));
  const results: CaseJobResult[] = jobs.map(() => 'stale');
  const ended: EndedAttempt[] = [];
  try {
    const prepared: { index: number; attempt: PreparedAttempt }[] = [];
    for (const [index, job] of jobs.entries()) {
      const claimed = claims[index];
      const running = watches[index];
      const log = deps.logger.child(job);
      if (!claimed || !running) {
        log.debug('stale case job; nothing to do');
        continue;
      }
      prepared.push({ index, attempt: await prepareAttempt(job, claimed, running, log, deps) });
    }
    // 2. Run them in the engine, one after the other.
    const outcomes = await runInEngine(
      prepared.map(({ attempt }) => attempt),
      deps.engine,
    );
    // 3. Each ended as it would have alone: recorded, or back on the queue for a retry.
    for (const [position, { index, attempt }] of prepared.entries()) {
      const finished = await attempt.finish(outcomes[position]);
      results[index] = finished.retrying ? 'retrying' : finished.ended.outcome.status;
      if (!finished.retrying) ended.push(finished.ended);
    }
  } finally {
    for (const running of watches) running?.done();
  }
  // 4. Record what ended in one write, then let the coordinator move the run on.
  if (ended.length > 0) {
    await recordAttempts(ended, deps);
    await deps.coordinator.advance(executionId);
  }
  return results;
}

/** A claimed attempt, ready for the engine, and what to do with its outcome. */
interface PreparedAttempt {
  /** What the engine runs; absent when the outcome was known without running (`known`). */
  input?: EngineCaseInput;
  known?: CaseOutcome;
  /** Active while a lone case runs, so what it logs carries its trace. */
  span?: CaseSpan;
  /** Takes the outcome (undefined: cancelled before it started) and ends the attempt. */
  finish(
    outcome: CaseOutcome | undefined,
  ): Promise<{ retrying: true } | { retrying: false; ended: EndedAttempt }>;
}

/**
 * The engine's outcome of each prepared attempt, in order; undefined for one cancelled before
 * it started. A lone case runs with its span active.
 */
async function runInEngine(
  attempts: readonly PreparedAttempt[],
  engine: CaseEngine,
): Promise<(CaseOutcome | undefined)[]> {
  const inputs = attempts.flatMap(({ input }) => (input ? [input] : []));
  const lone = attempts.length === 1 ? attempts[0]!.span : undefined;
  const run = () => (inputs.length === 0 ? Promise.resolve([]) : engine.runSeries(inputs));
  const outcomes = await (lone ? lone.run(run) : run());
  let next = 0;
  return attempts.map(({ input, known }) => (input ? outcomes[next++] : known));
}

/**
 * Readies a claimed attempt for the engine: its references resolved, its live events, trace
 * and metrics wired, abortable by a cancel from any process. When it ends, a retryable failure
 * with retries left goes back on the queue after a backoff instead of being recorded.
 */
async function prepareAttempt(
  job: RunCaseJob,
  { row, environmentId }: ClaimedCase,
  running: { signal: AbortSignal },
  log: Logger,
  deps: CaseRunnerDeps,
): Promise<PreparedAttempt> {
  const { db, skills } = deps;
  const { signal } = running;
  const { scope, secrets, mask } = await loadCaseScope(
    db,
    deps.environments,
    { executionId: job.execution_id, environmentId },
    row.params,
  );
  const found = skills.find(row.skillName, row.skillVersion);
  const events = deps.events;
  const ref = { execution_id: job.execution_id, case_id: job.case_id, case_name: row.name };
  const span =
    deps.traces &&
    startCaseSpan(await deps.traces.parentOf(job.execution_id), {
      executionId: job.execution_id,
      caseId: job.case_id,
      caseName: row.name,
      skill: row.skillName,
      attempt: attemptNumber(row.attempt),
    });
  const caseArtifacts =
    deps.artifacts && CaseArtifacts.forCase(deps.artifacts.store, job.execution_id, job.case_id);
  let caseEnded: (() => void) | undefined;
  const started = (): void => {
    void events?.publish({
      type: 'case.started',
      ...ref,
      skill_name: row.skillName,
      attempt: attemptNumber(row.attempt),
    });
    caseEnded = deps.metrics?.caseStarted();
  };

  let known: CaseOutcome | undefined;
  let params: JsonObject | undefined;
  if (!found.ok) {
    known = systemErrorOutcome(`${found.reason} on the worker that picked up this case`);
  } else {
    try {
      params = resolveReferences(row.params, scope).params;
    } catch (error) {
      if (!(error instanceof UnresolvedReferenceError)) throw error;
      known = systemErrorOutcome(mask(error.message));
    }
  }
  if (known) started();
  const input: EngineCaseInput | undefined =
    found.ok && !known
      ? {
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
          onStart: started,
          expectedMs: row.expectedMs ?? undefined,
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
        }
      : undefined;

  const finish: PreparedAttempt['finish'] = async (outcome) => {
    caseEnded?.();
    if (outcome === undefined) {
      // Its run was stopped while it waited its turn in a shared job: it never started.
      const notStarted = skippedOutcome('cancelled: its run was stopped before it started');
      span?.end(notStarted);
      return {
        retrying: false,
        ended: { row, outcome: notStarted, state: 'cancelled', artifacts: undefined, log },
      };
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
    const ended = { row, outcome, state: 'done' as const, artifacts: caseArtifacts, log };
    const retryable =
      found.ok &&
      outcome.status !== 'passed' &&
      outcome.error_type !== null &&
      deps.retry.retryable.includes(outcome.error_type) &&
      row.attempt < row.retries &&
      !signal.aborted;
    if (!retryable) return { retrying: false, ended };
    await retryLater(job, row, outcome, found.skill.definition.category, log, deps);
    await caseArtifacts?.discard(log);
    return { retrying: true };
  };
  return { input, known, span, finish };
}

/** Puts the case's next attempt on the queue after a backoff, unless it moved on already. */
async function retryLater(
  job: RunCaseJob,
  row: CaseRow,
  outcome: CaseOutcome,
  category: SkillCategory,
  log: Logger,
  deps: CaseRunnerDeps,
): Promise<void> {
  const attempt = row.attempt + 1;
  const jobId = jobIds.runCase(job.execution_id, job.case_id, attempt);
  const moved = await deps.db
    .update(executionCases)
    // A fresh queued_at keeps the reaper from taking the retry's delay for a lost job.
    .set({ attempt, state: 'queued', queuedAt: new Date(), jobId })
    .where(and(eq(executionCases.id, row.id), eq(executionCases.attempt, row.attempt)))
    .returning({ id: executionCases.id });
  const events = deps.events;
  void events?.publish(
    caseFinishedEvent(row, outcome, row.attempt, { willRetry: moved.length > 0, resultId: null }),
  );
  if (moved.length === 0) return;
  await events?.publish(caseQueuedEvent(row, attempt));
  const delay = retryDelayMs(attempt, deps.retry.baseMs, deps.retry.maxMs);
  await deps.queues.enqueue(
    queueForCategory(category),
    'run-case',
    { execution_id: job.execution_id, case_id: job.case_id, attempt },
    { jobId, delay },
  );
  log.info(
    { next_attempt: attempt, delay_ms: delay, error: outcome.error_message },
    'case will be retried',
  );
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
