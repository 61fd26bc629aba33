import type { Execution, Metric, Suite, TestCase, TestResult } from '@webguard/shared';
import type { testCases, testExecutions, testMetrics, testResults, testSuites } from './schema.js';

/** Rows as drizzle returns them, and their API shapes: snake_case, ISO timestamps. */
type SuiteRow = typeof testSuites.$inferSelect;
type CaseRow = typeof testCases.$inferSelect;
type ExecutionRow = typeof testExecutions.$inferSelect;
type ResultRow = typeof testResults.$inferSelect;
type MetricRow = typeof testMetrics.$inferSelect;

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export const toSuite = (row: SuiteRow): Suite => ({
  id: row.id,
  project_id: row.projectId,
  name: row.name,
  description: row.description,
  enabled: row.enabled,
  schedule_cron: row.scheduleCron,
  max_concurrent_tests: row.maxConcurrentTests,
  timeout_minutes: row.timeoutMinutes,
  retry_on_failure: row.retryOnFailure,
  schedule_timezone: row.scheduleTimezone,
  stop_on_error: row.stopOnError,
  max_failures: row.maxFailures,
  quality_gate: row.qualityGate ?? null,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

export const toTestCase = (row: CaseRow): TestCase => ({
  id: row.id,
  suite_id: row.suiteId,
  name: row.name,
  skill_name: row.skillName,
  skill_version: row.skillVersion,
  params: row.params,
  priority: row.priority,
  timeout_seconds: row.timeoutSeconds,
  enabled: row.enabled,
  depends_on: row.dependsOn,
  group: row.group,
  retries: row.retries,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

export const toExecution = (row: ExecutionRow, suiteName: string): Execution => ({
  id: row.id,
  suite_id: row.suiteId,
  suite_name: suiteName,
  status: row.status as Execution['status'],
  created_at: iso(row.createdAt),
  started_at: isoOrNull(row.startedAt),
  completed_at: isoOrNull(row.completedAt),
  total_tests: row.totalTests,
  passed_tests: row.passedTests,
  failed_tests: row.failedTests,
  skipped_tests: row.skippedTests,
  execution_time_ms: row.executionTimeMs,
  triggered_by: row.triggeredBy as Execution['triggered_by'],
  ci_commit_sha: row.ciCommitSha,
  ci_branch: row.ciBranch,
  error_message: row.errorMessage,
  environment: row.environmentName,
  rerun_of: row.rerunOf,
  quality_gate: row.qualityGate ?? null,
});

export const toMetric = (row: MetricRow): Metric => ({
  id: row.id,
  name: row.metricName,
  value: row.metricValue,
  unit: row.metricUnit,
  created_at: iso(row.createdAt),
});

export const toTestResult = (row: ResultRow, metrics: MetricRow[]): TestResult => ({
  id: row.id,
  execution_id: row.executionId,
  test_case_id: row.testCaseId,
  test_name: row.testName,
  skill_name: row.skillName,
  status: row.status as TestResult['status'],
  error_message: row.errorMessage,
  error_type: row.errorType as TestResult['error_type'],
  stack_trace: row.stackTrace,
  execution_time_ms: row.executionTimeMs,
  screenshot_url: row.screenshotUrl,
  video_url: row.videoUrl,
  log_url: row.logUrl,
  retry_count: row.retryCount,
  flaky: row.flaky,
  quarantined: row.quarantined,
  compensation: row.compensation ?? null,
  started_at: isoOrNull(row.startedAt),
  completed_at: isoOrNull(row.completedAt),
  steps: row.steps,
  logs: row.logs,
  outputs: row.outputs,
  metrics: metrics.map(toMetric),
  created_at: iso(row.createdAt),
});
