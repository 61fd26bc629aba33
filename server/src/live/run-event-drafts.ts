import type { CaseOutcome, Execution, RunEventDraft } from '@webguard/shared';

/** The case columns an event names. */
export interface CaseIdentity {
  executionId: number;
  caseId: number;
  name: string;
}

type Draft<T extends RunEventDraft['type']> = Extract<RunEventDraft, { type: T }>;

/** Rows count retries from 0 (`attempt`); events count attempts from 1, as people do. */
export const attemptNumber = (rowAttempt: number) => rowAttempt + 1;

export function executionFinishedEvent(execution: Execution): Draft<'execution.finished'> {
  return {
    type: 'execution.finished',
    execution_id: execution.id,
    status: execution.status,
    total_tests: execution.total_tests,
    passed_tests: execution.passed_tests,
    failed_tests: execution.failed_tests,
    skipped_tests: execution.skipped_tests,
    duration_ms: execution.execution_time_ms,
  };
}

export function caseFinishedEvent(
  row: CaseIdentity,
  outcome: Pick<CaseOutcome, 'status' | 'error_type' | 'error_message' | 'execution_time_ms'>,
  rowAttempt: number,
  next: { willRetry: boolean; resultId: number | null },
): Draft<'case.finished'> {
  return {
    type: 'case.finished',
    execution_id: row.executionId,
    case_id: row.caseId,
    case_name: row.name,
    status: outcome.status,
    error_type: outcome.error_type,
    error_message: outcome.error_message,
    duration_ms: outcome.execution_time_ms,
    attempt: attemptNumber(rowAttempt),
    will_retry: next.willRetry,
    result_id: next.resultId,
  };
}

export function caseQueuedEvent(
  row: CaseIdentity & { skillName: string },
  rowAttempt: number,
): Draft<'case.queued'> {
  return {
    type: 'case.queued',
    execution_id: row.executionId,
    case_id: row.caseId,
    case_name: row.name,
    skill_name: row.skillName,
    attempt: attemptNumber(rowAttempt),
  };
}
