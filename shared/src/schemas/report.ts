import { z } from 'zod';
import { Id, JsonValue, Timestamp } from './common.js';

/** The design's per-suite statistics over the last 30 days. */
export const SuiteStatistics = z.object({
  suite_id: z.number().int(),
  suite_name: z.string(),
  total_executions: z.number().int(),
  passed_executions: z.number().int(),
  failed_executions: z.number().int(),
  pass_rate: z.number().nullable().describe('percent of executions that passed'),
  avg_execution_time_ms: z.number().nullable(),
  last_execution_at: Timestamp.nullable(),
});
export type SuiteStatistics = z.infer<typeof SuiteStatistics>;

export const SuiteStatisticsList = z.object({ items: z.array(SuiteStatistics) });
export type SuiteStatisticsList = z.infer<typeof SuiteStatisticsList>;

const Days = z.coerce.number().int().min(1).max(365).default(30);

export const TrendsQuery = z.object({
  suite_id: Id.optional().describe('one suite; all visible suites when absent'),
  days: Days.describe('window ending now, in days'),
  branch: z.string().trim().min(1).max(100).optional(),
});
export type TrendsQuery = z.infer<typeof TrendsQuery>;

/** One day of finished executions (passed, failed, error, timeout; cancelled runs are left out). */
export const TrendPoint = z.object({
  day: z.iso.date(),
  executions: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int().describe('failed, error or timeout'),
  pass_rate: z.number().nullable().describe('percent'),
  p50_duration_ms: z.number().nullable(),
  p95_duration_ms: z.number().nullable(),
  cases: z.number().int().describe('case results recorded that day'),
  flaky_cases: z.number().int(),
});
export type TrendPoint = z.infer<typeof TrendPoint>;

export const TrendsResponse = z.object({
  suite_id: z.number().int().nullable(),
  days: z.number().int(),
  totals: TrendPoint.omit({ day: true }),
  points: z.array(TrendPoint),
});
export type TrendsResponse = z.infer<typeof TrendsResponse>;

export const FlakyQuery = z.object({
  suite_id: Id.optional(),
  days: Days,
  limit: z.coerce.number().int().min(1).max(200).default(20),
});
export type FlakyQuery = z.infer<typeof FlakyQuery>;

/**
 * A case that passes and fails without a change: passed only after a retry, or flipped between
 * passing and failing on consecutive runs of the same branch.
 */
export const FlakyTest = z.object({
  suite_id: z.number().int(),
  suite_name: z.string(),
  test_name: z.string(),
  runs: z.number().int(),
  failures: z.number().int(),
  retried_passes: z.number().int().describe('runs that passed only after a retry'),
  flips: z.number().int().describe('pass↔fail changes between consecutive runs on one branch'),
  flake_rate: z.number().describe('(retried_passes + flips) / runs'),
  last_seen_at: Timestamp,
});
export type FlakyTest = z.infer<typeof FlakyTest>;

export const FlakyList = z.object({ days: z.number().int(), items: z.array(FlakyTest) });
export type FlakyList = z.infer<typeof FlakyList>;

/** What changed since the previous finished run of the same suite on the same branch. */
export const ExecutionComparison = z.object({
  execution_id: z.number().int(),
  previous_execution_id: z.number().int().nullable(),
  branch: z.string().nullable(),
  newly_failing: z.array(z.string()),
  fixed: z.array(z.string()),
  still_failing: z.array(z.string()),
  new_cases: z.array(z.string()),
  removed_cases: z.array(z.string()),
});
export type ExecutionComparison = z.infer<typeof ExecutionComparison>;

/** JSON by default; `zip` (or `Accept: application/zip`) answers an `allure-results` zip. */
export const AllureReportQuery = z.object({
  format: z
    .enum(['json', 'zip'])
    .optional()
    .describe('json (default) or zip; without it, `Accept: application/zip` asks for the zip'),
});
export type AllureReportQuery = z.infer<typeof AllureReportQuery>;

/** An execution's Allure results as JSON: the files of an `allure-results` folder, by kind. */
export const AllureReportJson = z.object({
  results: z.array(z.record(z.string(), JsonValue)).describe('each to `<uuid>-result.json`'),
  containers: z.array(z.record(z.string(), JsonValue)).describe('each to `<uuid>-container.json`'),
  attachments: z.array(
    z.object({
      source: z.string(),
      content: z.string().optional(),
      url: z.string().optional(),
    }),
  ),
  environment: z.string().describe('the content of environment.properties'),
});
export type AllureReportJson = z.infer<typeof AllureReportJson>;
