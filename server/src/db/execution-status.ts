import type { ExecutionStatus, ResultStatus } from '@webguard/shared';

export type ResultCounts = Record<ResultStatus, number>;

export const emptyCounts = (): ResultCounts => ({
  passed: 0,
  failed: 0,
  skipped: 0,
  timeout: 0,
  error: 0,
});

/**
 * An execution's status follows from its results alone: a failed check or a timed-out case
 * fails the run; otherwise an error that kept a case from running makes it `error`; a run whose
 * cases were all skipped is `skipped`; anything else passed.
 */
export function deriveExecutionStatus(counts: ResultCounts): ExecutionStatus {
  if (counts.failed > 0 || counts.timeout > 0) return 'failed';
  if (counts.error > 0) return 'error';
  const total = counts.passed + counts.skipped;
  if (total > 0 && counts.passed === 0) return 'skipped';
  return 'passed';
}

/** The execution's counters: everything that neither passed nor was skipped counts as failed. */
export function summarize(counts: ResultCounts) {
  return {
    total: counts.passed + counts.failed + counts.skipped + counts.timeout + counts.error,
    passed: counts.passed,
    failed: counts.failed + counts.timeout + counts.error,
    skipped: counts.skipped,
  };
}
