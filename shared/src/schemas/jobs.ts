import { z } from 'zod';

/**
 * Job payloads carry only ids: the state of a run lives in the database, so a job delivered
 * twice, late or after a crash acts on what is true now, not on a stale copy.
 */

/** Moves an execution forward: dispatches ready cases, skips or cancels, closes it when done. */
export const AdvanceExecutionJob = z.object({
  execution_id: z.number().int(),
});
export type AdvanceExecutionJob = z.infer<typeof AdvanceExecutionJob>;

/** Runs one attempt of one case of an execution on its skill category's queue. */
export const RunCaseJob = z.object({
  execution_id: z.number().int(),
  case_id: z.number().int(),
  attempt: z.number().int().min(0),
});
export type RunCaseJob = z.infer<typeof RunCaseJob>;

/** Most cases one `run-cases` job carries. */
export const MAX_CASES_PER_JOB = 50;

/**
 * Runs several cases of one execution one after the other in one job: quick cases share the
 * queue's and the database's per-job costs. Each case is still claimed, run and recorded as its
 * own attempt.
 */
export const RunCasesJob = z.object({
  execution_id: z.number().int(),
  cases: z
    .array(z.object({ case_id: z.number().int(), attempt: z.number().int().min(0) }))
    .min(1)
    .max(MAX_CASES_PER_JOB),
});
export type RunCasesJob = z.infer<typeof RunCasesJob>;

/** Runs `compensate` of one passed case after its run failed. */
export const CompensateCaseJob = z.object({
  execution_id: z.number().int(),
  case_id: z.number().int(),
});
export type CompensateCaseJob = z.infer<typeof CompensateCaseJob>;

/** Ends an execution that ran past its suite's `timeout_minutes`. */
export const ExecutionDeadlineJob = z.object({
  execution_id: z.number().int(),
});
export type ExecutionDeadlineJob = z.infer<typeof ExecutionDeadlineJob>;

/** Fired by a suite's cron schedule. */
export const ScheduledRunJob = z.object({
  suite_id: z.number().int(),
});
export type ScheduledRunJob = z.infer<typeof ScheduledRunJob>;
