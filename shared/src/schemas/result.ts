import { z } from 'zod';
import { ErrorType, ResultStatus } from '../status.js';
import { JsonObject, Timestamp } from './common.js';

/** One timed sub-step of a case, as recorded by `ctx.step`. */
export const StepRecord = z.object({
  name: z.string(),
  status: z.enum(['passed', 'failed']),
  started_at: Timestamp,
  duration_ms: z.number().int().min(0),
  error: z.string().optional(),
});
export type StepRecord = z.infer<typeof StepRecord>;

/** One structured log line a skill wrote with `ctx.log`. */
export const LogEntry = z.object({
  time: Timestamp,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
  data: JsonObject.optional(),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** A case keeps at most this many log lines; later ones are counted, not stored. */
export const MAX_LOG_ENTRIES = 1000;

/** A measurement a skill reported with `ctx.metric`. */
export const MetricRecord = z.object({
  name: z.string().min(1).max(100),
  value: z.number().finite(),
  unit: z.string().max(20).nullable(),
});
export type MetricRecord = z.infer<typeof MetricRecord>;

/** What running one case produced; written as one `test_results` row plus its metrics. */
export const CaseOutcome = z.object({
  status: ResultStatus,
  error_type: ErrorType.nullable(),
  error_message: z.string().nullable(),
  stack_trace: z.string().nullable(),
  started_at: Timestamp,
  completed_at: Timestamp,
  execution_time_ms: z.number().int().min(0),
  steps: z.array(StepRecord),
  metrics: z.array(MetricRecord),
  logs: z.array(LogEntry).max(MAX_LOG_ENTRIES),
  outputs: JsonObject,
});
export type CaseOutcome = z.infer<typeof CaseOutcome>;

/** What running a case's `compensate` did after a later case of the run failed. */
export const CompensationRecord = z.object({
  status: z.enum(['passed', 'failed']),
  started_at: Timestamp,
  duration_ms: z.number().int().min(0),
  error: z.string().nullable(),
});
export type CompensationRecord = z.infer<typeof CompensationRecord>;

export const Metric = MetricRecord.extend({
  id: z.number().int(),
  created_at: Timestamp,
});
export type Metric = z.infer<typeof Metric>;

export const TestResult = z.object({
  id: z.number().int(),
  execution_id: z.number().int(),
  test_case_id: z.number().int().nullable().describe('null once the case was deleted'),
  test_name: z.string(),
  skill_name: z.string().nullable(),
  status: ResultStatus,
  error_message: z.string().nullable(),
  error_type: ErrorType.nullable(),
  stack_trace: z.string().nullable(),
  execution_time_ms: z.number().int().nullable(),
  screenshot_url: z.string().nullable(),
  video_url: z.string().nullable(),
  log_url: z.string().nullable(),
  retry_count: z.number().int(),
  flaky: z.boolean().describe('passed only after a retry'),
  quarantined: z.boolean().describe('quarantined when the run ended: reported, but not failing it'),
  compensation: CompensationRecord.nullable(),
  started_at: Timestamp.nullable(),
  completed_at: Timestamp.nullable(),
  steps: z.array(StepRecord),
  logs: z.array(LogEntry),
  outputs: JsonObject,
  metrics: z.array(Metric),
  created_at: Timestamp,
});
export type TestResult = z.infer<typeof TestResult>;
