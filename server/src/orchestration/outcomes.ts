import type { CaseOutcome } from '@webguard/shared';

/** An outcome for a case that never ran: skipped, cancelled, or impossible to start. */
function notRun(status: 'skipped' | 'error', message: string): CaseOutcome {
  const now = new Date().toISOString();
  return {
    status,
    error_type: status === 'error' ? 'system' : null,
    error_message: message,
    stack_trace: null,
    started_at: now,
    completed_at: now,
    execution_time_ms: 0,
    steps: [],
    metrics: [],
    logs: [],
    outputs: {},
  };
}

export const skippedOutcome = (reason: string) => notRun('skipped', reason);
export const systemErrorOutcome = (message: string) => notRun('error', message);
