import { and, eq } from 'drizzle-orm';
import type { CaseOutcome, CompensationRecord, ResultStatus } from '@webguard/shared';
import type { Database } from './database.js';
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

export class ResultRepository {
  constructor(private readonly db: Database) {}

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
