import { and, eq } from 'drizzle-orm';
import type { CaseOutcome, CaseSnapshot } from '@webguard/shared';
import type { Database } from './database.js';
import { testMetrics, testResults } from './schema.js';

export class ResultRepository {
  constructor(private readonly db: Database) {}

  async exists(executionId: number, caseId: number): Promise<boolean> {
    const [row] = await this.db
      .select({ id: testResults.id })
      .from(testResults)
      .where(and(eq(testResults.executionId, executionId), eq(testResults.testCaseId, caseId)));
    return row !== undefined;
  }

  /**
   * Writes a case's result and its metrics in one transaction. A second delivery of the same
   * case job writes nothing: returns false when the result was already recorded.
   */
  async record(
    executionId: number,
    testCase: CaseSnapshot,
    outcome: CaseOutcome,
    retryCount = 0,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(testResults)
        .values({
          executionId,
          testCaseId: testCase.case_id,
          testName: testCase.name,
          skillName: testCase.skill_name,
          status: outcome.status,
          errorMessage: outcome.error_message,
          errorType: outcome.error_type,
          stackTrace: outcome.stack_trace,
          executionTimeMs: outcome.execution_time_ms,
          retryCount,
          startedAt: new Date(outcome.started_at),
          completedAt: new Date(outcome.completed_at),
          steps: outcome.steps,
          logs: outcome.logs,
          outputs: outcome.outputs,
        })
        .onConflictDoNothing({ target: [testResults.executionId, testResults.testCaseId] })
        .returning({ id: testResults.id });
      if (!row) return false;
      if (outcome.metrics.length > 0) {
        await tx.insert(testMetrics).values(
          outcome.metrics.map((metric) => ({
            testResultId: row.id,
            metricName: metric.name,
            metricValue: metric.value,
            metricUnit: metric.unit,
          })),
        );
      }
      return true;
    });
  }
}
