import { getTableColumns, inArray, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type DataLoader from 'dataloader';
import type { CaseOutcome, ResultStatus, RunCaseJob } from '@webguard/shared';
import { rowsOf, type Database } from './database.js';
import { resultValues } from './result-repository.js';
import { executionCases, testMetrics, testResults } from './schema.js';
import { statementBatcher } from './statement-batcher.js';

type CaseRow = typeof executionCases.$inferSelect;

/** A case this worker may run now, with the environment its run was started against. */
export interface ClaimedCase {
  row: CaseRow;
  environmentId: number | null;
}

/** How a case was closed: its result row and the status recorded there. */
export interface ClosedCase {
  resultId: number | null;
  status: ResultStatus;
}

/** How a case ends: it ran (`done`), or it was cancelled before it could start. */
export type ClosingState = 'done' | 'cancelled';

interface Closing {
  row: CaseRow;
  outcome: CaseOutcome;
  state: ClosingState;
  finishedAt: Date;
}

const caseKey = (executionId: number, caseId: number | null) => `${executionId}/${caseId}`;

/** A case's attempt, claimed by the queue job (its id) that carries it. */
export type CaseClaim = RunCaseJob & { job_id: string };

/**
 * The case runner's writes to a run's case rows, batched across the cases this worker runs at
 * once: each claim and each close is one statement (one transaction) for all the cases that
 * reached that point while the previous batch was being written.
 */
export class CaseLedger {
  private readonly claims: DataLoader<CaseClaim, ClaimedCase | null>;
  private readonly closings: DataLoader<Closing, ClosedCase>;

  private readonly claimStatement: ReturnType<typeof claimStatement>;
  private readonly closeStatement: ReturnType<typeof closeStatement>;

  constructor(db: Database) {
    // Named statements: they run for every case, so PostgreSQL plans them once per connection.
    this.claimStatement = claimStatement(db);
    this.closeStatement = closeStatement(db);
    this.claims = statementBatcher((jobs) => this.claimAll(jobs));
    this.closings = statementBatcher((closings) => this.closeAll(closings));
  }

  /**
   * Marks the case running if the job is its current attempt, in the job it was last queued in,
   * and it is still queued or running (a redelivered job); null when the job is stale.
   */
  async claim(job: CaseClaim): Promise<ClaimedCase | null> {
    return this.claims.load(job);
  }

  /**
   * Writes the case's result, its metrics and its end state (`done` unless it was cancelled
   * before it started) in one transaction. A result already written by an earlier delivery of
   * the job is kept, and the case closes with it.
   */
  async close(
    row: CaseRow,
    outcome: CaseOutcome,
    state: ClosingState = 'done',
  ): Promise<ClosedCase> {
    return this.closings.load({ row, outcome, state, finishedAt: new Date() });
  }

  private async claimAll(jobs: readonly CaseClaim[]): Promise<(ClaimedCase | null)[]> {
    const claimed = await this.claimStatement.execute({ jobs: JSON.stringify(jobs) });
    const byJob = new Map(
      claimed.map(({ environmentId, ...row }) => [
        `${caseKey(row.executionId, row.caseId)}/${row.attempt}/${row.jobId}`,
        { row, environmentId },
      ]),
    );
    return jobs.map(
      (job) =>
        byJob.get(`${caseKey(job.execution_id, job.case_id)}/${job.attempt}/${job.job_id}`) ?? null,
    );
  }

  /**
   * One statement for the whole batch, its rows passed as one JSON parameter: result rows,
   * their metrics and the cases' end states are written together or not at all.
   */
  private async closeAll(closings: readonly Closing[]): Promise<ClosedCase[]> {
    const input = closings.map(({ row, outcome, state, finishedAt }) => ({
      ...resultValues(
        row.executionId,
        { caseId: row.caseId, name: row.name, skillName: row.skillName },
        outcome,
        row.attempt,
      ),
      rowId: row.id,
      metrics: outcome.metrics,
      state,
      finishedAt,
    }));
    const result = await this.closeStatement.execute({ input: JSON.stringify(input) });
    const rows = rowsOf<{ row_id: number; id: number | null; status: ResultStatus }>(result);
    const byRow = new Map(rows.map((row) => [row.row_id, row]));
    return closings.map(({ row, outcome }) => {
      const closed = byRow.get(row.id);
      return {
        resultId: closed?.id ?? null,
        status: closed?.status ?? outcome.status,
      };
    });
  }
}

/**
 * Marks the jobs' cases running when each job is its case's current attempt, and the job the
 * case was last queued in (a case the reaper queued again in a job of its own is not run by its
 * lost shared job turning up after all), and the case is still queued or running (a redelivered
 * job), returning them with their run's environment.
 * The batch's cases are found once, before the update, each through its key (the `LIMIT 1`
 * keeps the planner from turning the lookups into a join that reads the whole table), and the
 * update then takes them by key: matching the jobs as a semi-join let the planner, whenever its
 * statistics showed few running cases, read the whole batch again for every running case. The
 * job's attempt and id are checked again on the row as updated, so a case whose attempt or job
 * moved on meanwhile (a retry queued by the worker of an earlier delivery, the reaper) is left
 * alone.
 */
function claimStatement(db: Database) {
  return db
    .update(executionCases)
    .set({ state: 'running', startedAt: sql`coalesce(${executionCases.startedAt}, now())` })
    .where(
      sql`${executionCases.id} = ANY(ARRAY(
          SELECT found.id
          FROM jsonb_to_recordset(${sql.placeholder('jobs')}::jsonb)
            AS j(execution_id int, case_id int, attempt int, job_id text)
          CROSS JOIN LATERAL (
            SELECT c.id FROM execution_cases c
            WHERE c.execution_id = j.execution_id AND c.case_id = j.case_id
              AND c.attempt = j.attempt AND c.job_id = j.job_id LIMIT 1) found))
          AND (${executionCases.executionId} || '/' || ${executionCases.caseId} || '/' ||
            ${executionCases.attempt} || '/' || ${executionCases.jobId}) = ANY(ARRAY(
              SELECT j.execution_id || '/' || j.case_id || '/' || j.attempt || '/' || j.job_id
              FROM jsonb_to_recordset(${sql.placeholder('jobs')}::jsonb)
                AS j(execution_id int, case_id int, attempt int, job_id text)))
          AND ${inArray(executionCases.state, ['queued', 'running'])}`,
    )
    .returning({
      ...getTableColumns(executionCases),
      // Written out in full: drizzle leaves columns unqualified in RETURNING, which would bind
      // them to the subquery's own table.
      environmentId: sql<
        number | null
      >`(SELECT e.environment_id FROM test_executions e WHERE e.id = execution_cases.execution_id)`,
    })
    .prepare('wg_claim_cases');
}

/**
 * Writes result rows, their metrics and the cases' end states for a batch of closings given
 * as one JSON parameter, all together or not at all. An earlier result is looked up only for a
 * case whose insert met one, and the cases are updated through their keys: the statement used
 * to hash the whole results table and the whole cases table on every batch.
 */
function closeStatement(db: Database) {
  const statement = sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${sql.placeholder('input')}::jsonb) AS r(
          "rowId" int, "executionId" int, "testCaseId" int, "testName" text, "skillName" text,
          status text, "errorMessage" text, "errorType" text, "stackTrace" text,
          "executionTimeMs" int, "retryCount" int, flaky boolean, "startedAt" timestamptz,
          "completedAt" timestamptz, steps jsonb, logs jsonb, outputs jsonb, metrics jsonb,
          state text, "finishedAt" timestamptz)
      ),
      inserted AS (
        INSERT INTO ${testResults} (execution_id, test_case_id, test_name, skill_name, status,
          error_message, error_type, stack_trace, execution_time_ms, retry_count, flaky,
          started_at, completed_at, steps, logs, outputs)
        SELECT "executionId", "testCaseId", "testName", "skillName", status, "errorMessage",
          "errorType", "stackTrace", "executionTimeMs", "retryCount", flaky, "startedAt",
          "completedAt", steps, logs, outputs
        FROM input
        ON CONFLICT (execution_id, test_case_id) DO NOTHING
        RETURNING id, execution_id, test_case_id, status, outputs
      ),
      metrics AS (
        INSERT INTO ${testMetrics} (test_result_id, metric_name, metric_value, metric_unit)
        SELECT inserted.id, m.name, m.value, m.unit
        FROM inserted
        JOIN input ON input."executionId" = inserted.execution_id
          AND input."testCaseId" = inserted.test_case_id
        CROSS JOIN LATERAL jsonb_to_recordset(input.metrics) AS m(name text, value numeric, unit text)
      ),
      -- A result an earlier delivery wrote before its worker stopped: the case closes with it.
      results AS (
        SELECT input."rowId" AS row_id, input.state, input."finishedAt" AS finished_at,
          coalesce(inserted.id, earlier.id) AS id,
          coalesce(inserted.status, earlier.status, input.status) AS status,
          coalesce(inserted.outputs, earlier.outputs, input.outputs) AS outputs
        FROM input
        LEFT JOIN inserted ON inserted.execution_id = input."executionId"
          AND inserted.test_case_id = input."testCaseId"
        LEFT JOIN LATERAL (
          SELECT id, status, outputs FROM ${testResults}
          WHERE inserted.id IS NULL AND execution_id = input."executionId"
            AND test_case_id = input."testCaseId"
          LIMIT 1) earlier ON true
      ),
      closed AS (
        UPDATE ${executionCases} AS ec
        SET state = results.state, result_status = results.status, outputs = results.outputs,
          finished_at = results.finished_at
        FROM results
        WHERE ec.id = results.row_id AND ec.id = ANY(ARRAY(SELECT "rowId" FROM input))
      )
      SELECT row_id, id, status FROM results`;
  return db._.session.prepareQuery<{
    execute: unknown;
    all: unknown;
    values: unknown;
  }>(new PgDialect().sqlToQuery(statement), undefined, 'wg_close_cases', false);
}
