import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNull,
  lt,
  not,
  sql,
  type SQL,
} from 'drizzle-orm';
import {
  FINAL_EXECUTION_STATUSES,
  type Execution,
  type ExecutionCase,
  type ExecutionCaseState,
  type ExecutionWithResults,
  type ListExecutionsQuery,
  type Page,
  type ResultStatus,
  type TriggerSource,
} from '@webguard/shared';
import { notFound } from '../errors.js';
import type { Database } from './database.js';
import { deriveExecutionStatus, emptyCounts, summarize } from './execution-status.js';
import { toExecution, toTestResult } from './mappers.js';
import { evaluateGate, type GateCase } from '../reports/quality-gate.js';
import {
  caseQuarantines,
  executionCases,
  testExecutions,
  testMetrics,
  testResults,
  testSuites,
} from './schema.js';

const OPEN_STATUSES = ['queued', 'running'];

const executionColumns = { execution: testExecutions, suiteName: testSuites.name };

export interface NewExecution {
  suiteId: number;
  totalTests: number;
  triggeredBy: TriggerSource;
  ciCommitSha?: string | undefined;
  ciBranch?: string | undefined;
  environment?: { id: number; name: string } | undefined;
  idempotencyKey?: string | undefined;
  rerunOf?: number | undefined;
}

/** A case of a run as planned when the run starts. */
export type PlannedCase = Required<
  Pick<
    typeof executionCases.$inferInsert,
    | 'caseId'
    | 'name'
    | 'skillName'
    | 'skillVersion'
    | 'params'
    | 'dependsOn'
    | 'priority'
    | 'timeoutSeconds'
    | 'retries'
    | 'dispatchOrder'
    | 'expectedMs'
  >
>;

export class ExecutionRepository {
  constructor(private readonly db: Database) {}

  async create(input: NewExecution): Promise<Execution> {
    const [row] = await this.db
      .insert(testExecutions)
      .values({
        suiteId: input.suiteId,
        status: 'queued',
        totalTests: input.totalTests,
        triggeredBy: input.triggeredBy,
        ciCommitSha: input.ciCommitSha ?? null,
        ciBranch: input.ciBranch ?? null,
        environmentId: input.environment?.id ?? null,
        environmentName: input.environment?.name ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
        rerunOf: input.rerunOf ?? null,
      })
      .returning({ id: testExecutions.id });
    return this.get(row!.id);
  }

  /**
   * Records a run's cases in one statement with one JSON parameter: as a multi-row VALUES list,
   * a suite of thousands of cases would be a statement of tens of thousands of parameters, slow
   * to build and to parse. The cases in `queued.jobOf` are recorded queued, on that job, at
   * `queued.at`; the others pending.
   */
  async addCases(
    executionId: number,
    cases: readonly PlannedCase[],
    queued: { jobOf: ReadonlyMap<number, string>; at: Date },
  ): Promise<void> {
    const rows = cases.map((planned) => ({
      ...planned,
      jobId: queued.jobOf.get(planned.caseId) ?? null,
    }));
    await this.db.execute(sql`
      INSERT INTO ${executionCases} (execution_id, case_id, name, skill_name, skill_version,
        params, depends_on, priority, timeout_seconds, retries, dispatch_order, expected_ms,
        job_id, state, queued_at)
      SELECT ${executionId}, "caseId", name, "skillName", "skillVersion", params, "dependsOn",
        priority, "timeoutSeconds", retries, "dispatchOrder", "expectedMs", "jobId",
        CASE WHEN "jobId" IS NULL THEN 'pending' ELSE 'queued' END,
        CASE WHEN "jobId" IS NULL THEN NULL ELSE ${queued.at.toISOString()}::timestamptz END
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS c("caseId" int, name text,
        "skillName" text, "skillVersion" text, params jsonb, "dependsOn" jsonb, priority int,
        "timeoutSeconds" int, retries int, "dispatchOrder" int, "expectedMs" int, "jobId" text)`);
  }

  async find(id: number): Promise<Execution | undefined> {
    const [row] = await this.db
      .select(executionColumns)
      .from(testExecutions)
      .innerJoin(testSuites, eq(testSuites.id, testExecutions.suiteId))
      .where(eq(testExecutions.id, id));
    return row && toExecution(row.execution, row.suiteName);
  }

  async get(id: number): Promise<Execution> {
    const execution = await this.find(id);
    if (!execution) throw notFound('execution', id);
    return execution;
  }

  /** The execution with every result and each result's metrics, in the order cases finished. */
  async getWithResults(id: number): Promise<ExecutionWithResults> {
    const execution = await this.get(id);
    const results = await this.db
      .select()
      .from(testResults)
      .where(eq(testResults.executionId, id))
      .orderBy(asc(testResults.id));
    const metrics =
      results.length === 0
        ? []
        : await this.db
            .select()
            .from(testMetrics)
            .where(
              inArray(
                testMetrics.testResultId,
                results.map((result) => result.id),
              ),
            )
            .orderBy(asc(testMetrics.id));
    return {
      ...execution,
      results: results.map((result) =>
        toTestResult(
          result,
          metrics.filter((metric) => metric.testResultId === result.id),
        ),
      ),
    };
  }

  /** The state of each case of the execution, in dispatch order. */
  async cases(id: number): Promise<ExecutionCase[]> {
    const rows = await this.db
      .select()
      .from(executionCases)
      .where(eq(executionCases.executionId, id))
      .orderBy(asc(executionCases.dispatchOrder), asc(executionCases.id));
    return rows.map((row) => ({
      case_id: row.caseId,
      name: row.name,
      skill_name: row.skillName,
      state: row.state as ExecutionCaseState,
      attempt: row.attempt,
      started_at: row.startedAt?.toISOString() ?? null,
    }));
  }

  /** `projectIds` limits the page to those projects' suites; undefined means every project. */
  async list(query: ListExecutionsQuery, projectIds?: number[]): Promise<Page<Execution>> {
    const filters: SQL[] = [];
    if (projectIds)
      filters.push(
        inArray(
          testExecutions.suiteId,
          this.db
            .select({ id: testSuites.id })
            .from(testSuites)
            .where(inArray(testSuites.projectId, projectIds)),
        ),
      );
    if (query.suite_id !== undefined) filters.push(eq(testExecutions.suiteId, query.suite_id));
    if (query.status) filters.push(eq(testExecutions.status, query.status));
    if (query.triggered_by) filters.push(eq(testExecutions.triggeredBy, query.triggered_by));
    if (query.ci_branch) filters.push(eq(testExecutions.ciBranch, query.ci_branch));
    if (query.ci_commit_sha) filters.push(eq(testExecutions.ciCommitSha, query.ci_commit_sha));
    if (query.since) filters.push(gte(testExecutions.createdAt, new Date(query.since)));
    if (query.until) filters.push(lt(testExecutions.createdAt, new Date(query.until)));
    const where = and(...filters);
    const [rows, [total]] = await Promise.all([
      this.db
        .select(executionColumns)
        .from(testExecutions)
        .innerJoin(testSuites, eq(testSuites.id, testExecutions.suiteId))
        .where(where)
        .orderBy(desc(testExecutions.createdAt), desc(testExecutions.id))
        .limit(query.limit)
        .offset(query.offset),
      this.db.select({ value: count() }).from(testExecutions).where(where),
    ]);
    return {
      items: rows.map((row) => toExecution(row.execution, row.suiteName)),
      total: total?.value ?? 0,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** Moves a queued execution to running; a no-op when it already runs or has ended. */
  async markRunning(id: number): Promise<void> {
    await this.db
      .update(testExecutions)
      .set({ status: 'running', startedAt: new Date() })
      .where(and(eq(testExecutions.id, id), eq(testExecutions.status, 'queued')));
  }

  /** Ends an open execution as `error` with a reason, e.g. when it could not be queued. */
  async markError(id: number, message: string): Promise<void> {
    await this.db
      .update(testExecutions)
      .set({ status: 'error', errorMessage: message, completedAt: new Date() })
      .where(and(eq(testExecutions.id, id), inArray(testExecutions.status, OPEN_STATUSES)));
  }

  async isFinal(id: number): Promise<boolean> {
    const [row] = await this.db
      .select({ status: testExecutions.status })
      .from(testExecutions)
      .where(eq(testExecutions.id, id));
    return !row || (FINAL_EXECUTION_STATUSES as readonly string[]).includes(row.status);
  }

  /** The execution with this idempotency key for the suite, if one was started already. */
  async findByIdempotencyKey(suiteId: number, key: string): Promise<Execution | undefined> {
    const [row] = await this.db
      .select({ id: testExecutions.id })
      .from(testExecutions)
      .where(and(eq(testExecutions.suiteId, suiteId), eq(testExecutions.idempotencyKey, key)));
    return row && this.get(row.id);
  }

  /** A CI run of this suite for this commit that is still queued or running. */
  async findOpenForCommit(suiteId: number, commitSha: string): Promise<Execution | undefined> {
    const [row] = await this.db
      .select({ id: testExecutions.id })
      .from(testExecutions)
      .where(
        and(
          eq(testExecutions.suiteId, suiteId),
          eq(testExecutions.ciCommitSha, commitSha),
          inArray(testExecutions.status, OPEN_STATUSES),
        ),
      )
      .orderBy(desc(testExecutions.id))
      .limit(1);
    return row && this.get(row.id);
  }

  /** Recomputes the counters from the result rows without touching the status. */
  async refreshCounts(id: number): Promise<void> {
    const summary = summarize(await this.countResults(id));
    await this.db
      .update(testExecutions)
      .set({
        passedTests: summary.passed,
        failedTests: summary.failed,
        skippedTests: summary.skipped,
      })
      .where(eq(testExecutions.id, id));
  }

  /** Result counts by status; `judged` leaves out quarantined cases, which may not fail a run. */
  private async countResults(id: number, judged = false) {
    const rows = await this.db
      .select({ status: testResults.status, value: count() })
      .from(testResults)
      .where(
        judged
          ? and(eq(testResults.executionId, id), not(testResults.quarantined))
          : eq(testResults.executionId, id),
      )
      .groupBy(testResults.status);
    const counts = emptyCounts();
    for (const row of rows) counts[row.status as ResultStatus] = row.value;
    return counts;
  }

  /** Flags this run's results of cases quarantined right now; returns their names. */
  private async markQuarantined(id: number, suiteId: number): Promise<string[]> {
    const active = await this.db
      .selectDistinct({ name: caseQuarantines.caseName })
      .from(caseQuarantines)
      .where(
        and(
          eq(caseQuarantines.suiteId, suiteId),
          isNull(caseQuarantines.liftedAt),
          gt(caseQuarantines.until, new Date()),
        ),
      );
    const names = active.map((row) => row.name).sort();
    if (names.length === 0) return [];
    await this.db
      .update(testResults)
      .set({ quarantined: true })
      .where(and(eq(testResults.executionId, id), inArray(testResults.testName, names)));
    return names;
  }

  /** The suite's gate judged on this run's results, or null when the suite has none. */
  private async judgeGate(id: number, suiteId: number, quarantined: string[]) {
    const [suite] = await this.db
      .select({ gate: testSuites.qualityGate })
      .from(testSuites)
      .where(eq(testSuites.id, suiteId));
    if (!suite?.gate) return null;
    const results = await this.db
      .select()
      .from(testResults)
      .where(and(eq(testResults.executionId, id), not(testResults.quarantined)));
    const metrics = results.length
      ? await this.db
          .select()
          .from(testMetrics)
          .where(
            inArray(
              testMetrics.testResultId,
              results.map((r) => r.id),
            ),
          )
      : [];
    const cases: GateCase[] = results.map((result) => ({
      status: result.status as ResultStatus,
      flaky: result.flaky,
      executionTimeMs: result.executionTimeMs,
      metrics: metrics
        .filter((m) => m.testResultId === result.id)
        .map((m) => ({ name: m.metricName, value: m.metricValue })),
    }));
    return evaluateGate(suite.gate, cases, quarantined);
  }

  /**
   * Closes the execution once every case has a result: status and counts are computed from the
   * result rows. The row lock makes concurrent workers finishing the last cases close it once.
   * Returns the closed execution, or undefined while cases are outstanding or if already closed.
   */
  async finalizeIfComplete(id: number): Promise<Execution | undefined> {
    const closed = await this.db.transaction(async (tx) => {
      const [execution] = await tx
        .select()
        .from(testExecutions)
        .where(eq(testExecutions.id, id))
        .for('no key update');
      if (!execution || !OPEN_STATUSES.includes(execution.status)) return false;

      const repository = new ExecutionRepository(tx);
      const counts = await repository.countResults(id);
      const summary = summarize(counts);
      if (summary.total < execution.totalTests) return false;

      // Quarantined cases ran and are reported, but neither the status nor the gate counts them.
      const quarantined = await repository.markQuarantined(id, execution.suiteId);
      const judged = quarantined.length > 0 ? await repository.countResults(id, true) : counts;
      const gate = await repository.judgeGate(id, execution.suiteId, quarantined);

      const completedAt = new Date();
      const startedAt = execution.startedAt ?? execution.createdAt;
      await tx
        .update(testExecutions)
        .set({
          status: deriveExecutionStatus(judged),
          qualityGate: gate,
          passedTests: summary.passed,
          failedTests: summary.failed,
          skippedTests: summary.skipped,
          startedAt,
          completedAt,
          executionTimeMs: Math.max(0, completedAt.getTime() - startedAt.getTime()),
        })
        .where(eq(testExecutions.id, id));
      return true;
    });
    return closed ? this.get(id) : undefined;
  }
}
