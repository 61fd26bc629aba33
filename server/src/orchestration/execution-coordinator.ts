import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type DataLoader from 'dataloader';
import type { Logger } from 'pino';
import {
  FINAL_EXECUTION_STATUSES,
  type Execution,
  type ExecutionCaseState,
} from '@webguard/shared';
import type { Database } from '../db/database.js';
import { ExecutionRepository, type PlannedCase } from '../db/execution-repository.js';
import { ResultRepository } from '../db/result-repository.js';
import { statementBatcher } from '../db/statement-batcher.js';
import { executionCases, testExecutions, testSuites } from '../db/schema.js';
import {
  bullPriority,
  EXECUTIONS_QUEUE,
  jobIds,
  NOTIFICATIONS_QUEUE,
  queueForCategory,
  type QueueName,
} from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';
import {
  caseFinishedEvent,
  caseQueuedEvent,
  executionFinishedEvent,
  type RunEventSink,
} from '../live/index.js';
import type { SkillRegistry } from '../skills/index.js';
import { DEFAULT_BATCH_LIMITS, packCases, type BatchLimits } from './case-batches.js';
import type { CancelBus } from './cancel-bus.js';
import { skippedOutcome, systemErrorOutcome } from './outcomes.js';

type CaseRow = typeof executionCases.$inferSelect;

const TERMINAL_STATES: readonly ExecutionCaseState[] = ['done', 'skipped', 'cancelled'];
const ACTIVE_STATES: readonly ExecutionCaseState[] = ['queued', 'running'];
const isFinal = (status: string) =>
  (FINAL_EXECUTION_STATUSES as readonly string[]).includes(status);
const didNotPass = (row: CaseRow) => row.state === 'done' && row.resultStatus !== 'passed';

export interface CoordinatorDeps {
  db: Database;
  queues: JobQueues;
  skills: SkillRegistry;
  cancelBus: CancelBus;
  logger: Logger;
  /** Called once when an execution closes, in the process that closed it (e.g. metrics). */
  onExecutionFinished?: (execution: Execution) => void;
  /** Where the run's live events go. */
  events?: RunEventSink;
  /** How quick cases may share jobs; default `DEFAULT_BATCH_LIMITS`. */
  batchLimits?: BatchLimits;
}

/** A case the coordinator ended itself (skipped, cancelled, no skill), for its live event. */
interface ClosedCase {
  row: CaseRow;
  outcome: ReturnType<typeof skippedOutcome>;
}

/** What a case needs to be put on a queue: its skill, its job's id and priority, its event. */
type DispatchableCase = Pick<
  CaseRow,
  | 'executionId'
  | 'caseId'
  | 'attempt'
  | 'name'
  | 'skillName'
  | 'skillVersion'
  | 'priority'
  | 'expectedMs'
>;

/** A job that runs one case, or several quick ones one after the other. */
interface CaseJob<Case extends DispatchableCase = DispatchableCase> {
  queue: QueueName;
  jobId: string;
  rows: Case[];
}

/** A run just recorded, with its first cases queued: what to carry out once it is committed. */
export interface OpenedRun {
  executionId: number;
  plan: Plan;
}

/** What one pass decided, carried out after its transaction commits. */
interface Plan {
  dispatch: CaseJob[];
  compensate: { row: CaseRow; queue: QueueName }[];
  abortRunning: boolean;
  finished?: Execution;
  /** A case was closed during this pass, so its dependents need another look. */
  again: boolean;
  /** The execution went from queued to running in this pass. */
  started: boolean;
  closed: ClosedCase[];
}

/** How many of a run's cases wait, run, ended without passing, or were cancelled. */
interface CaseTally {
  pending: number;
  active: number;
  failed: number;
  cancelled: number;
}

/**
 * Cases whose jobs are queued together once their `case.queued` events are out: about one call
 * of the live-event publisher's, so the first jobs wait for the first call only.
 */
const ENQUEUE_CHUNK_CASES = 200;

/** Consecutive jobs of about `ENQUEUE_CHUNK_CASES` cases each, in dispatch order. */
function chunkJobs(jobs: readonly CaseJob[]): CaseJob[][] {
  const chunks: CaseJob[][] = [];
  let cases = ENQUEUE_CHUNK_CASES;
  for (const job of jobs) {
    if (cases >= ENQUEUE_CHUNK_CASES) {
      chunks.push([]);
      cases = 0;
    }
    chunks.at(-1)!.push(job);
    cases += job.rows.length;
  }
  return chunks;
}

const emptyPlan = (): Plan => ({
  dispatch: [],
  compensate: [],
  abortRunning: false,
  again: false,
  started: false,
  closed: [],
});

/** How many of each run's cases wait, run, or ended without passing. */
async function tallyCases(db: Database, executionIds: number[]): Promise<Map<number, CaseTally>> {
  const count = (condition: SQL) =>
    sql<number>`count(*) FILTER (WHERE ${condition})`.mapWith(Number);
  const rows = await db
    .select({
      executionId: executionCases.executionId,
      pending: count(sql`${executionCases.state} = 'pending'`),
      active: count(inArray(executionCases.state, [...ACTIVE_STATES])),
      failed: count(
        sql`${executionCases.state} = 'done' AND ${executionCases.resultStatus} IS DISTINCT FROM 'passed'`,
      ),
      cancelled: count(sql`${executionCases.state} = 'cancelled'`),
    })
    .from(executionCases)
    .where(inArray(executionCases.executionId, executionIds))
    .groupBy(executionCases.executionId);
  return new Map(rows.map(({ executionId, ...tally }) => [executionId, tally]));
}

/**
 * Whether a case of the run depends on (by name) one of the run's cases in the given condition.
 * The names in that condition are read once per statement and each case's list is checked
 * against them: a subquery per case let the planner, whenever its statistics had not yet seen
 * the run, scan every case of the run for each case, which took 200 ms for 1,000 cases.
 */
const hasUpstream = (executionId: number, condition: SQL) => sql`(
  ${executionCases.dependsOn} <> '[]'::jsonb AND ${executionCases.dependsOn} ?| ARRAY(
    SELECT upstream.name FROM execution_cases upstream
    WHERE upstream.execution_id = ${executionId} AND (${condition})))`;

/** Whether a waiting case depends on one that ended without passing, and must be skipped. */
async function anyBlocked(tx: Database, executionId: number): Promise<boolean> {
  const [blocked] = await tx
    .select({ id: executionCases.id })
    .from(executionCases)
    .where(
      and(
        eq(executionCases.executionId, executionId),
        eq(executionCases.state, 'pending'),
        hasUpstream(
          executionId,
          sql`upstream.state IN ('skipped', 'cancelled') OR (upstream.state = 'done' AND upstream.result_status IS DISTINCT FROM 'passed')`,
        ),
      ),
    )
    .limit(1);
  return blocked !== undefined;
}

/**
 * Pending cases whose dependencies have all passed (a name that is not in the run does not
 * hold a case back), in dispatch order.
 */
const readyToStart = (executionId: number) =>
  sql`NOT ${hasUpstream(
    executionId,
    sql`NOT (upstream.state = 'done' AND upstream.result_status = 'passed')`,
  )}`;

/**
 * Moves executions forward. All state lives in `execution_cases`; every decision is taken under
 * a row lock on the execution, so any number of API and worker processes can call `advance`
 * at once and the suite's `max_concurrent_tests` holds across the whole cluster.
 */
export class ExecutionCoordinator {
  private readonly tallies: DataLoader<number, CaseTally>;
  /** Per run, the pass under way in this process and the one queued behind it. */
  private readonly runningPasses = new Map<number, Promise<void>>();
  private readonly waitingPasses = new Map<number, Promise<void>>();

  constructor(private readonly deps: CoordinatorDeps) {
    this.tallies = statementBatcher((executionIds) => this.tallyAll(executionIds));
  }

  async advance(executionId: number): Promise<void> {
    if (await this.busyWithNothingToDo(executionId)) return;
    return this.coalescedPass(executionId);
  }

  /**
   * Passes over one run take its lock one after another, so cases that end while a pass runs
   * share the next one: a pass that has not started yet sees everything committed before it.
   */
  private coalescedPass(executionId: number): Promise<void> {
    const waiting = this.waitingPasses.get(executionId);
    if (waiting) return waiting;
    const start = async () => {
      this.waitingPasses.delete(executionId);
      const pass = this.passUntilSettled(executionId);
      this.runningPasses.set(executionId, pass);
      try {
        await pass;
      } finally {
        if (this.runningPasses.get(executionId) === pass) this.runningPasses.delete(executionId);
      }
    };
    const running = this.runningPasses.get(executionId);
    if (!running) return start();
    const next = running.then(start, start);
    this.waitingPasses.set(executionId, next);
    return next;
  }

  private async passUntilSettled(executionId: number): Promise<void> {
    for (let pass = 0; pass < 10; pass++) {
      const plan = await this.deps.db.transaction((tx) => this.plan(tx, executionId));
      await this.carryOut(executionId, plan);
      if (!plan.again) return;
    }
  }

  /**
   * Ends an open execution now: `cancelled` on request, `timeout` at the suite's deadline.
   * Cases not started are recorded as skipped with the reason; running ones are aborted and
   * record their own result when they stop.
   */
  async cancel(
    executionId: number,
    ending: { status: 'cancelled' | 'timeout'; reason: string },
  ): Promise<Execution> {
    const closedCases: ClosedCase[] = [];
    const closed = await this.deps.db.transaction(async (tx) => {
      closedCases.length = 0;
      const [execution] = await tx
        .select()
        .from(testExecutions)
        .where(eq(testExecutions.id, executionId))
        .for('no key update');
      if (!execution || isFinal(execution.status)) return false;
      const rows = await tx
        .select()
        .from(executionCases)
        .where(eq(executionCases.executionId, executionId));
      for (const row of rows.filter((r) => r.state === 'pending' || r.state === 'queued')) {
        await this.close(
          tx,
          row,
          'cancelled',
          skippedOutcome(
            `${ending.status === 'timeout' ? 'timed out' : 'cancelled'}: ${ending.reason}`,
          ),
          closedCases,
        );
      }
      const completedAt = new Date();
      const startedAt = execution.startedAt ?? execution.createdAt;
      await tx
        .update(testExecutions)
        .set({
          status: ending.status,
          errorMessage: ending.reason,
          startedAt,
          completedAt,
          executionTimeMs: Math.max(0, completedAt.getTime() - startedAt.getTime()),
        })
        .where(eq(testExecutions.id, executionId));
      await new ExecutionRepository(tx).refreshCounts(executionId);
      return true;
    });
    const executions = new ExecutionRepository(this.deps.db);
    const execution = await executions.get(executionId);
    if (closed) {
      this.deps.logger.info(
        { execution_id: executionId, status: ending.status, reason: ending.reason },
        'execution stopped',
      );
      for (const { row, outcome } of closedCases) this.publishClosed(row, outcome);
      void this.deps.events?.publish(executionFinishedEvent(execution));
      await this.deps.cancelBus.publish(executionId);
      await this.removeDeadline(executionId);
      this.deps.onExecutionFinished?.(execution);
    }
    return execution;
  }

  /**
   * Most calls come while other cases still run and none waits to start: a count by state,
   * without the lock, says so cheaply. Each caller counts after its own case was committed as
   * ended, so the last case to end always sees nothing running and takes the locked path.
   */
  private async busyWithNothingToDo(executionId: number): Promise<boolean> {
    const { pending, active, failed } = await this.tallies.load(executionId);
    // A failure may call for fail-fast or stop_on_error handling: leave that to the full pass.
    return failed === 0 && pending === 0 && active > 0;
  }

  /** Case counts of many runs in one statement, for the callers that asked at the same time. */
  private async tallyAll(executionIds: readonly number[]): Promise<CaseTally[]> {
    const byExecution = await tallyCases(this.deps.db, [...new Set(executionIds)]);
    return executionIds.map(
      (id) => byExecution.get(id) ?? { pending: 0, active: 0, failed: 0, cancelled: 0 },
    );
  }

  /** One pass over the execution's cases, inside a transaction holding its row lock. */
  private async plan(tx: Database, executionId: number): Promise<Plan> {
    const plan = emptyPlan();
    const [execution] = await tx
      .select()
      .from(testExecutions)
      .where(eq(testExecutions.id, executionId))
      .for('no key update');
    if (!execution) return plan;
    // A stopped execution only keeps its counts current as its last running cases report in.
    if (isFinal(execution.status)) {
      await new ExecutionRepository(tx).refreshCounts(executionId);
      return plan;
    }
    const [suite] = await tx.select().from(testSuites).where(eq(testSuites.id, execution.suiteId));
    const maxConcurrent = suite?.maxConcurrentTests ?? 1;

    // While cases wait and no failure calls for fail-fast, stop_on_error or skipping a
    // dependent, a pass only starts the next ready ones: counts and the few rows to start are
    // enough, so a long run does not read all its cases every time one ends.
    const tally = (await tallyCases(tx, [executionId])).get(executionId);
    // Every case ended and passed (or was skipped without a failure): nothing to start, skip
    // or undo, so the run closes without reading its cases.
    if (
      tally &&
      tally.pending === 0 &&
      tally.active === 0 &&
      tally.failed === 0 &&
      tally.cancelled === 0
    ) {
      plan.finished = await new ExecutionRepository(tx).finalizeIfComplete(executionId);
      return plan;
    }
    const onlyStarts =
      tally !== undefined &&
      tally.pending > 0 &&
      (tally.failed === 0 ||
        (!suite?.stopOnError &&
          !(suite?.maxFailures && tally.failed >= suite.maxFailures) &&
          !(await anyBlocked(tx, executionId))));
    if (onlyStarts) {
      const slots = maxConcurrent - tally.active;
      const ready =
        slots <= 0
          ? []
          : await tx
              .select()
              .from(executionCases)
              .where(
                and(
                  eq(executionCases.executionId, executionId),
                  eq(executionCases.state, 'pending'),
                  readyToStart(executionId),
                ),
              )
              .orderBy(asc(executionCases.dispatchOrder), asc(executionCases.id))
              .limit(slots);
      await this.dispatch(tx, execution, ready, slots, plan);
      return plan;
    }

    const rows = await tx
      .select()
      .from(executionCases)
      .where(eq(executionCases.executionId, executionId))
      .orderBy(asc(executionCases.dispatchOrder), asc(executionCases.id));
    const byName = new Map(rows.map((row) => [row.name, row]));
    const failed = rows.filter(didNotPass);

    // 1. Fail fast: past max_failures the rest of the run is cancelled, running cases too.
    if (suite?.maxFailures && failed.length >= suite.maxFailures) {
      const reason = `cancelled: ${failed.length} case(s) failed, the suite's max_failures is ${suite.maxFailures}`;
      for (const row of rows.filter((r) => r.state === 'pending' || r.state === 'queued')) {
        await this.close(tx, row, 'cancelled', skippedOutcome(reason), plan.closed);
      }
      plan.abortRunning = rows.some((row) => row.state === 'running');
    }

    // 2. stop_on_error: nothing new starts once a case failed.
    if (suite?.stopOnError && failed.length > 0) {
      for (const row of rows.filter((r) => r.state === 'pending')) {
        await this.close(
          tx,
          row,
          'skipped',
          skippedOutcome(`skipped: stop_on_error, "${failed[0]!.name}" failed`),
          plan.closed,
        );
      }
    }

    // 3. A case whose dependency did not pass is skipped; skipping cascades down the graph.
    for (let changed = true; changed;) {
      changed = false;
      for (const row of rows.filter((r) => r.state === 'pending')) {
        const blocker = row.dependsOn
          .map((name) => byName.get(name))
          .find(
            (dep) =>
              dep && (dep.state === 'skipped' || dep.state === 'cancelled' || didNotPass(dep)),
          );
        if (blocker) {
          const why = blocker.state === 'done' ? 'did not pass' : 'did not run';
          await this.close(
            tx,
            row,
            'skipped',
            skippedOutcome(`skipped: depends on "${blocker.name}", which ${why}`),
            plan.closed,
          );
          changed = true;
        }
      }
    }

    // 4. Dispatch ready cases in order while the suite's concurrency allows.
    const ready = rows.filter(
      (row) =>
        row.state === 'pending' &&
        row.dependsOn.every((name) => {
          const dep = byName.get(name);
          return !dep || (dep.state === 'done' && dep.resultStatus === 'passed');
        }),
    );
    const active = rows.filter((row) => ACTIVE_STATES.includes(row.state as ExecutionCaseState));
    await this.dispatch(tx, execution, ready, maxConcurrent - active.length, plan);
    if (!rows.every((row) => TERMINAL_STATES.includes(row.state as ExecutionCaseState)))
      return plan;

    // 5. Every case has ended. After a failure, undo passed cases' work in reverse order of
    //    completion, one at a time, before the run closes.
    if (rows.some(didNotPass) || rows.some((row) => row.state === 'cancelled')) {
      const toUndo = rows
        .filter(
          (row) =>
            row.state === 'done' &&
            row.resultStatus === 'passed' &&
            this.deps.skills.get(row.skillName, row.skillVersion)?.definition.compensate !==
              undefined,
        )
        .sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0));
      const next = toUndo.find((row) => row.compensationState !== 'done');
      if (next) {
        if (next.compensationState !== 'queued') {
          await tx
            .update(executionCases)
            .set({ compensationState: 'queued' })
            .where(eq(executionCases.id, next.id));
          const skill = this.deps.skills.get(next.skillName, next.skillVersion)!;
          plan.compensate.push({ row: next, queue: queueForCategory(skill.definition.category) });
        }
        return plan;
      }
    }

    // 6. Close the execution; its status and counts come from the result rows.
    plan.finished = await new ExecutionRepository(tx).finalizeIfComplete(executionId);
    return plan;
  }

  /**
   * Records the cases of a run being created, inside the transaction that creates it (no other
   * pass can see the run yet), with those that can start at once already queued, and marks the
   * run running: its first jobs need no pass of their own, nor a second write of every case.
   * `cases` are in dispatch order. What it returns is carried out by `launch` once committed.
   */
  async open(
    tx: Database,
    executionId: number,
    cases: readonly PlannedCase[],
    maxConcurrent: number,
  ): Promise<OpenedRun> {
    const plan = emptyPlan();
    const ready = cases
      .filter((planned) => planned.dependsOn.length === 0)
      .map((planned) => ({ ...planned, executionId, attempt: 0 }));
    const { jobs, missing } = this.packJobs(executionId, ready, maxConcurrent);
    // Cases whose skill this server lacks stay pending: `launch`'s pass records them as failed.
    plan.again = missing.length > 0;
    const jobOf = new Map(
      jobs.flatMap(({ jobId, rows }) => rows.map((row) => [row.caseId, jobId])),
    );
    await new ExecutionRepository(tx).addCases(executionId, cases, { jobOf, at: new Date() });
    if (jobs.length > 0) {
      plan.dispatch = jobs;
      await this.markStarted(tx, executionId, plan);
    }
    return { executionId, plan };
  }

  /** Puts an opened run's first jobs on their queues, after the run was committed. */
  async launch({ executionId, plan }: OpenedRun): Promise<void> {
    await this.carryOut(executionId, plan);
    if (plan.again) await this.coalescedPass(executionId);
  }

  /**
   * Splits ready cases, in order, into the jobs that fill the free slots: by the queue of each
   * case's skill, quick cases sharing jobs. Cases whose skill this server lacks take no slot and
   * come back apart.
   */
  private packJobs<Case extends DispatchableCase>(
    executionId: number,
    ready: readonly Case[],
    slots: number,
  ): { jobs: CaseJob<Case>[]; missing: { row: Case; reason: string }[] } {
    const byQueue = new Map<QueueName, Case[]>();
    const missing: { row: Case; reason: string }[] = [];
    for (const row of ready) {
      if (slots <= 0) break;
      const found = this.deps.skills.find(row.skillName, row.skillVersion);
      if (!found.ok) {
        missing.push({ row, reason: found.reason });
        continue;
      }
      const queue = queueForCategory(found.skill.definition.category);
      const rows = byQueue.get(queue) ?? [];
      rows.push(row);
      byQueue.set(queue, rows);
      slots--;
    }
    const limits = this.deps.batchLimits ?? DEFAULT_BATCH_LIMITS;
    const jobs: CaseJob<Case>[] = [];
    for (const [queue, rows] of byQueue) {
      for (const shared of packCases(rows, limits)) {
        const [first] = shared as [Case, ...Case[]];
        const jobId =
          shared.length === 1
            ? jobIds.runCase(executionId, first.caseId, first.attempt)
            : jobIds.runCases(executionId, first.caseId, first.attempt);
        jobs.push({ queue, jobId, rows: shared });
      }
    }
    return { jobs, missing };
  }

  /**
   * Queues ready cases, in order, into the free slots; a case whose skill this server lacks
   * ends as a system error instead (and the pass runs again for its dependents).
   */
  private async dispatch(
    tx: Database,
    execution: typeof testExecutions.$inferSelect,
    ready: CaseRow[],
    slots: number,
    plan: Plan,
  ): Promise<void> {
    const { jobs, missing } = this.packJobs(execution.id, ready, slots);
    for (const { row, reason } of missing) {
      await this.close(
        tx,
        row,
        'done',
        systemErrorOutcome(`${reason} on this server`),
        plan.closed,
      );
      plan.again = true;
    }
    if (jobs.length === 0) return;
    for (const { jobId, rows } of jobs) {
      for (const row of rows) {
        row.state = 'queued';
        row.jobId = jobId;
      }
    }
    plan.dispatch.push(...jobs);
    const queued = jobs.flatMap(({ jobId, rows }) =>
      rows.map((row) => ({ id: row.id, job_id: jobId })),
    );
    await tx.execute(sql`
      UPDATE ${executionCases} SET state = 'queued', queued_at = ${new Date().toISOString()},
        job_id = queued.job_id
      FROM jsonb_to_recordset(${JSON.stringify(queued)}::jsonb) AS queued(id int, job_id text)
      WHERE ${executionCases.id} = queued.id`);
    if (execution.status === 'queued') await this.markStarted(tx, execution.id, plan);
  }

  /** The run's first cases are queued: it is running from now on. */
  private async markStarted(tx: Database, executionId: number, plan: Plan): Promise<void> {
    await tx
      .update(testExecutions)
      .set({ status: 'running', startedAt: new Date() })
      .where(eq(testExecutions.id, executionId));
    plan.started = true;
  }

  /** Ends a case that will not run (or ran) with its result, in the same transaction. */
  private async close(
    tx: Database,
    row: CaseRow,
    state: ExecutionCaseState,
    outcome: ReturnType<typeof skippedOutcome>,
    closed: ClosedCase[],
  ): Promise<void> {
    closed.push({ row, outcome });
    await new ResultRepository(tx).record(
      row.executionId,
      { caseId: row.caseId, name: row.name, skillName: row.skillName },
      outcome,
      row.attempt,
    );
    await tx
      .update(executionCases)
      .set({ state, resultStatus: outcome.status, finishedAt: new Date() })
      .where(eq(executionCases.id, row.id));
    row.state = state;
    row.resultStatus = outcome.status;
  }

  private async carryOut(executionId: number, plan: Plan): Promise<void> {
    const { queues, cancelBus, logger, events } = this.deps;
    // A job goes on its queue once its cases' events are out, so that a run's clients see it
    // started and its cases queued before any case starts. Events go out a chunk of jobs at a
    // time, in order: the first jobs run while later events are still made and written.
    const started =
      plan.started && events?.publish({ type: 'execution.started', execution_id: executionId });
    for (const { row, outcome } of plan.closed) this.publishClosed(row, outcome);
    const chunks = chunkJobs(plan.dispatch);
    const announce = (chunk: readonly CaseJob[] | undefined) =>
      Promise.all(
        events && chunk
          ? chunk.flatMap(({ rows }) =>
              rows.map((row) => events.publish(caseQueuedEvent(row, row.attempt))),
            )
          : [],
      );
    await started;
    let announced = announce(chunks[0]);
    for (const [index, chunk] of chunks.entries()) {
      await announced;
      announced = announce(chunks[index + 1]);
      await this.enqueueJobs(executionId, chunk);
    }
    for (const { row, queue } of plan.compensate) {
      await queues.enqueue(
        queue,
        'compensate-case',
        { execution_id: executionId, case_id: row.caseId },
        {
          jobId: jobIds.compensate(executionId, row.caseId),
        },
      );
    }
    if (plan.abortRunning) await cancelBus.publish(executionId);
    if (plan.dispatch.length > 0) {
      logger.debug(
        {
          execution_id: executionId,
          cases: plan.dispatch.flatMap(({ rows }) => rows.map((row) => row.name)),
          jobs: plan.dispatch.length,
        },
        'cases dispatched',
      );
    }
    if (plan.finished) {
      logger.info(
        {
          execution_id: executionId,
          status: plan.finished.status,
          passed: plan.finished.passed_tests,
          failed: plan.finished.failed_tests,
          skipped: plan.finished.skipped_tests,
        },
        'execution finished',
      );
      void events?.publish(executionFinishedEvent(plan.finished));
      // Which channels hear about it is decided by a job, so a slow database never holds this up.
      await queues.enqueue(
        NOTIFICATIONS_QUEUE,
        'notify-execution',
        { execution_id: executionId },
        { jobId: `notify-${executionId}` },
      );
      await this.removeDeadline(executionId);
      this.deps.onExecutionFinished?.(plan.finished);
    }
  }

  /** Puts the jobs on their queues, in order within each queue. */
  private async enqueueJobs(executionId: number, dispatch: readonly CaseJob[]): Promise<void> {
    const { queues } = this.deps;
    const casePriority = (rows: readonly DispatchableCase[]) =>
      bullPriority(Math.max(...rows.map((row) => row.priority)));
    for (const queue of new Set(dispatch.map((job) => job.queue))) {
      const jobs = dispatch.filter((job) => job.queue === queue);
      await queues.enqueueMany(
        queue,
        'run-case',
        jobs
          .filter(({ rows }) => rows.length === 1)
          .map(({ jobId, rows: [row] }) => ({
            payload: { execution_id: executionId, case_id: row!.caseId, attempt: row!.attempt },
            jobId,
            priority: casePriority([row!]),
          })),
      );
      await queues.enqueueMany(
        queue,
        'run-cases',
        jobs
          .filter(({ rows }) => rows.length > 1)
          .map(({ jobId, rows }) => ({
            payload: {
              execution_id: executionId,
              cases: rows.map((row) => ({ case_id: row.caseId, attempt: row.attempt })),
            },
            jobId,
            priority: casePriority(rows),
          })),
      );
    }
  }

  private publishClosed(row: CaseRow, outcome: ClosedCase['outcome']): void {
    void this.deps.events?.publish(
      caseFinishedEvent(row, outcome, row.attempt, { willRetry: false, resultId: null }),
    );
  }

  /** The suite-timeout job is moot once the run has ended; removing it keeps the queue tidy. */
  private async removeDeadline(executionId: number): Promise<void> {
    try {
      await this.deps.queues.queue(EXECUTIONS_QUEUE).remove(jobIds.deadline(executionId));
    } catch (error) {
      this.deps.logger.debug({ execution_id: executionId, err: error }, 'deadline job not removed');
    }
  }

  /** Open executions, for the reaper. */
  async openExecutionIds(): Promise<number[]> {
    const rows = await this.deps.db
      .select({ id: testExecutions.id })
      .from(testExecutions)
      .where(inArray(testExecutions.status, ['queued', 'running']));
    return rows.map((row) => row.id);
  }

  async activeCases(executionId: number): Promise<CaseRow[]> {
    return this.deps.db
      .select()
      .from(executionCases)
      .where(
        and(
          eq(executionCases.executionId, executionId),
          inArray(executionCases.state, [...ACTIVE_STATES]),
        ),
      );
  }
}

export type { CaseRow };
