import { and, eq, sql } from 'drizzle-orm';
import type { CaseOutcome, CompensationRecord, ResultStatus } from '@webguard/shared';
import type { CaseHistory } from '../orchestration/workflow-graph.js';
import { rowsOf, type Database } from './database.js';
import { testMetrics, testResults } from './schema.js';

/** Which case a result belongs to, as the run knew it. */
export interface ResultCase {
  caseId: number;
  name: string;
  skillName: string;
}

/** The `test_results` row of a case's outcome. */
export function resultValues(
  executionId: number,
  testCase: ResultCase,
  outcome: CaseOutcome,
  retryCount: number,
): typeof testResults.$inferInsert {
  return {
    executionId,
    testCaseId: testCase.caseId,
    testName: testCase.name,
    skillName: testCase.skillName,
    status: outcome.status,
    errorMessage: outcome.error_message,
    errorType: outcome.error_type,
    stackTrace: outcome.stack_trace,
    executionTimeMs: outcome.execution_time_ms,
    retryCount,
    flaky: outcome.status === 'passed' && retryCount > 0,
    startedAt: new Date(outcome.started_at),
    completedAt: new Date(outcome.completed_at),
    steps: outcome.steps,
    logs: outcome.logs,
    outputs: outcome.outputs,
  };
}

/** How many of a case's latest results its history is made of. */
const HISTORY_DEPTH = 5;

export class ResultRepository {
  constructor(private readonly db: Database) {}

  /**
   * Per case, its latest results that ran (skipped ones left out), read newest first through
   * the case's index: the cost stays the same however many runs the table holds.
   */
  async recentResults(caseIds: number[]): Promise<Map<number, CaseHistory>> {
    if (caseIds.length === 0) return new Map();
    const rows = rowsOf<{ case_id: number; average_ms: number | null; failed_last_time: boolean }>(
      await this.db.execute(sql`
        SELECT c.id AS case_id, avg(recent.execution_time_ms)::float8 AS average_ms,
          bool_or(recent.rank = 1 AND recent.status <> 'passed') AS failed_last_time
        FROM unnest(${`{${caseIds.join(',')}}`}::int[]) AS c(id)
        CROSS JOIN LATERAL (
          SELECT status, execution_time_ms, row_number() OVER (ORDER BY id DESC) AS rank
          FROM ${testResults}
          WHERE test_case_id = c.id AND status <> 'skipped'
          ORDER BY id DESC
          LIMIT ${HISTORY_DEPTH}
        ) recent
        GROUP BY c.id`),
    );
    return new Map(
      rows.map((row) => [
        Number(row.case_id),
        {
          failedLastTime: Boolean(row.failed_last_time),
          averageMs: row.average_ms === null ? null : Number(row.average_ms),
        },
      ]),
    );
  }

  async exists(executionId: number, caseId: number): Promise<boolean> {
    return (await this.statusOf(executionId, caseId)) !== undefined;
  }

  /** The recorded status of a case in a run, if it has a result yet. */
  async statusOf(executionId: number, caseId: number): Promise<ResultStatus | undefined> {
    const [row] = await this.db
      .select({ status: testResults.status })
      .from(testResults)
      .where(and(eq(testResults.executionId, executionId), eq(testResults.testCaseId, caseId)));
    return row?.status as ResultStatus | undefined;
  }

  /**
   * Writes a case's result and its metrics in one transaction. A second delivery of the same
   * case job writes nothing: returns false when the result was already recorded.
   */
  async record(
    executionId: number,
    testCase: ResultCase,
    outcome: CaseOutcome,
    retryCount = 0,
  ): Promise<boolean> {
    const write = async (db: Database) => {
      const [row] = await db
        .insert(testResults)
        .values(resultValues(executionId, testCase, outcome, retryCount))
        .onConflictDoNothing({ target: [testResults.executionId, testResults.testCaseId] })
        .returning({ id: testResults.id });
      if (!row) return false;
      if (outcome.metrics.length > 0) {
        await db.insert(testMetrics).values(
          outcome.metrics.map((metric) => ({
            testResultId: row.id,
            metricName: metric.name,
            metricValue: metric.value,
            metricUnit: metric.unit,
          })),
        );
      }
      return true;
    };
    // One statement needs no transaction; a result with metrics is written whole or not at all.
    return outcome.metrics.length === 0 ? write(this.db) : this.db.transaction(write);
  }

  async setCompensation(
    executionId: number,
    caseId: number,
    record: CompensationRecord,
  ): Promise<void> {
    await this.db
      .update(testResults)
      .set({ compensation: record })
      .where(and(eq(testResults.executionId, executionId), eq(testResults.testCaseId, caseId)));
  }
}
