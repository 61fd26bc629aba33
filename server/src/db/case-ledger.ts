import { getTableColumns, inArray, sql, type SQL } from 'drizzle-orm';
import type DataLoader from 'dataloader';
import type { CaseOutcome, JsonObject, ResultStatus, RunCaseJob } from '@webguard/shared';
import type { Database } from './database.js';
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

interface Closing {
  row: CaseRow;
  outcome: CaseOutcome;
  finishedAt: Date;
}

const caseKey = (executionId: number, caseId: number | null) => `${executionId}/${caseId}`;

/** `(a, b) IN ((1, 2), (3, 4))` over integer columns. */
function tupleIn(columns: SQL[], tuples: number[][]): SQL {
  const rows = tuples.map(
    (tuple) =>
      sql`(${sql.join(
        tuple.map((n) => sql`${n}::int`),
        sql`, `,
      )})`,
  );
  return sql`(${sql.join(columns, sql`, `)}) IN (${sql.join(rows, sql`, `)})`;
}

/**
 * The case runner's writes to a run's case rows, batched across the cases this worker runs at
 * once: each claim and each close is one statement (one transaction) for all the cases that
 * reached that point while the previous batch was being written.
 */
export class CaseLedger {
  private readonly claims: DataLoader<RunCaseJob, ClaimedCase | null>;
  private readonly closings: DataLoader<Closing, ClosedCase>;

  constructor(private readonly db: Database) {
    this.claims = statementBatcher((jobs) => this.claimAll(jobs));
    this.closings = statementBatcher((closings) => this.closeAll(closings));
  }

  /**
   * Marks the case running if the job is its current attempt and it is still queued or running
   * (a redelivered job); null when the job is stale.
   */
  async claim(job: RunCaseJob): Promise<ClaimedCase | null> {
    return this.claims.load(job);
  }

  /**
   * Writes the case's result, its metrics and its `done` state in one transaction. A result
   * already written by an earlier delivery of the job is kept, and the case closes with it.
   */
  async close(row: CaseRow, outcome: CaseOutcome): Promise<ClosedCase> {
    return this.closings.load({ row, outcome, finishedAt: new Date() });
  }

  private async claimAll(jobs: readonly RunCaseJob[]): Promise<(ClaimedCase | null)[]> {
    const claimed = await this.db
      .update(executionCases)
      .set({ state: 'running', startedAt: sql`coalesce(${executionCases.startedAt}, now())` })
      .where(
        sql`${tupleIn(
          [
            sql`${executionCases.executionId}`,
            sql`${executionCases.caseId}`,
            sql`${executionCases.attempt}`,
          ],
          jobs.map((job) => [job.execution_id, job.case_id, job.attempt]),
        )} AND ${inArray(executionCases.state, ['queued', 'running'])}`,
      )
      .returning({
        ...getTableColumns(executionCases),
        // Written out in full: drizzle leaves columns unqualified in RETURNING, which would bind
        // them to the subquery's own table.
        environmentId: sql<
          number | null
        >`(SELECT e.environment_id FROM test_executions e WHERE e.id = execution_cases.execution_id)`,
      });
    const byJob = new Map(
      claimed.map(({ environmentId, ...row }) => [
        `${caseKey(row.executionId, row.caseId)}/${row.attempt}`,
        { row, environmentId },
      ]),
    );
    return jobs.map(
      (job) => byJob.get(`${caseKey(job.execution_id, job.case_id)}/${job.attempt}`) ?? null,
    );
  }

  private async closeAll(closings: readonly Closing[]): Promise<ClosedCase[]> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx
        .insert(testResults)
        .values(
          closings.map(({ row, outcome }) =>
            resultValues(
              row.executionId,
              { caseId: row.caseId, name: row.name, skillName: row.skillName },
              outcome,
              row.attempt,
            ),
          ),
        )
        .onConflictDoNothing({ target: [testResults.executionId, testResults.testCaseId] })
        .returning({
          id: testResults.id,
          executionId: testResults.executionId,
          caseId: testResults.testCaseId,
        });
      const written = new Map(inserted.map((r) => [caseKey(r.executionId, r.caseId), r.id]));

      // Results an earlier delivery wrote before its worker stopped: the case closes with those.
      const earlier = closings.filter(
        ({ row }) => !written.has(caseKey(row.executionId, row.caseId)),
      );
      const kept = new Map<string, { id: number; status: ResultStatus; outputs: JsonObject }>();
      if (earlier.length > 0) {
        const rows = await tx
          .select({
            id: testResults.id,
            executionId: testResults.executionId,
            caseId: testResults.testCaseId,
            status: testResults.status,
            outputs: testResults.outputs,
          })
          .from(testResults)
          .where(
            tupleIn(
              [sql`${testResults.executionId}`, sql`${testResults.testCaseId}`],
              earlier.map(({ row }) => [row.executionId, row.caseId]),
            ),
          );
        for (const r of rows)
          kept.set(caseKey(r.executionId, r.caseId), {
            id: r.id,
            status: r.status as ResultStatus,
            outputs: r.outputs,
          });
      }

      const metrics = closings.flatMap(({ row, outcome }) => {
        const resultId = written.get(caseKey(row.executionId, row.caseId));
        return resultId === undefined
          ? []
          : outcome.metrics.map((metric) => ({
              testResultId: resultId,
              metricName: metric.name,
              metricValue: metric.value,
              metricUnit: metric.unit,
            }));
      });
      if (metrics.length > 0) await tx.insert(testMetrics).values(metrics);

      const closed = closings.map(({ row, outcome, finishedAt }) => {
        const key = caseKey(row.executionId, row.caseId);
        const earlierResult = kept.get(key);
        return {
          row,
          finishedAt,
          resultId: written.get(key) ?? earlierResult?.id ?? null,
          status: earlierResult?.status ?? (written.has(key) ? outcome.status : 'error'),
          outputs: earlierResult?.outputs ?? outcome.outputs,
        };
      });
      const values = closed.map(
        (c) =>
          sql`(${c.row.id}::int, ${c.status}::varchar, ${JSON.stringify(c.outputs)}::jsonb, ${c.finishedAt.toISOString()}::timestamptz)`,
      );
      await tx.execute(sql`
        UPDATE ${executionCases} AS ec
        SET state = 'done', result_status = v.status, outputs = v.outputs, finished_at = v.finished_at
        FROM (VALUES ${sql.join(values, sql`, `)}) AS v(id, status, outputs, finished_at)
        WHERE ec.id = v.id`);
      return closed.map(({ resultId, status }) => ({ resultId, status }));
    });
  }
}
