import junitModule, { type Builder } from 'junit-report-builder';
import type { ExecutionWithResults, TestResult } from '@webguard/shared';

/** A file a result produced, with where to fetch it. */
export interface ReportArtifact {
  id: number;
  name: string;
  kind: string;
  url: string;
}

export interface ReportOptions {
  /** Artifacts by result id; their links go in the case's system-out. */
  artifacts?: ReadonlyMap<number, ReportArtifact[]>;
}

// The package is CommonJS whose `module.exports` is the builder, while its types declare an ES
// default export: under NodeNext the default import is that builder at run time.
const junit = junitModule as unknown as Builder;

const seconds = (ms: number | null) => (ms ?? 0) / 1000;

/** The case's log, steps and artifact links as readable text for the CI's test view. */
export function caseOutput(result: TestResult, artifacts: ReportArtifact[] = []): string {
  const lines: string[] = [];
  if (result.flaky) lines.push(`flaky: passed after ${result.retry_count} retries`);
  else if (result.retry_count > 0) lines.push(`retries: ${result.retry_count}`);
  for (const step of result.steps)
    lines.push(
      `step ${step.status === 'passed' ? 'ok  ' : 'FAIL'} ${step.name} (${step.duration_ms} ms)${step.error ? `: ${step.error}` : ''}`,
    );
  for (const entry of result.logs)
    lines.push(`${entry.time} ${entry.level.toUpperCase()} ${entry.message}`);
  for (const metric of result.metrics)
    lines.push(`metric ${metric.name} = ${metric.value}${metric.unit ? ` ${metric.unit}` : ''}`);
  // Jenkins and GitLab show `[[ATTACHMENT|…]]` lines as links to the file.
  for (const artifact of artifacts)
    lines.push(`${artifact.kind}: ${artifact.url}`, `[[ATTACHMENT|${artifact.url}]]`);
  return lines.join('\n');
}

/**
 * A JUnit XML report of one execution: one `<testsuite>` with a `<testcase>` per result.
 * Failed and timed-out cases are failures, errors are errors, skipped cases are skipped.
 */
export function toJUnitXml(execution: ExecutionWithResults, options: ReportOptions = {}): string {
  const builder = junit.newBuilder().name('WebGuard');
  const suite = builder
    .testSuite()
    .name(execution.suite_name)
    .time(seconds(execution.execution_time_ms))
    .timestamp(new Date(execution.started_at ?? execution.created_at))
    .property('webguard.execution_id', String(execution.id))
    .property('webguard.status', execution.status)
    .property('webguard.triggered_by', execution.triggered_by);
  if (execution.ci_commit_sha) suite.property('ci.commit', execution.ci_commit_sha);
  if (execution.ci_branch) suite.property('ci.branch', execution.ci_branch);
  if (execution.environment) suite.property('webguard.environment', execution.environment);
  if (execution.error_message) suite.property('webguard.error', execution.error_message);
  if (execution.quality_gate)
    suite.property('webguard.quality_gate', execution.quality_gate.passed ? 'passed' : 'failed');

  for (const result of execution.results) {
    const testCase = suite
      .testCase()
      .className(`${execution.suite_name}.${result.skill_name ?? 'skill'}`)
      .name(result.test_name)
      .time(seconds(result.execution_time_ms));
    const message = result.error_message ?? `${result.status} without a message`;
    if (result.status === 'failed' || result.status === 'timeout') {
      testCase.failure(message, result.error_type ?? result.status);
      if (result.stack_trace) testCase.stacktrace(result.stack_trace);
    } else if (result.status === 'error') {
      testCase.error(message, result.error_type ?? 'error', result.stack_trace ?? undefined);
    } else if (result.status === 'skipped') {
      testCase.skipped();
    }
    const output = caseOutput(result, options.artifacts?.get(result.id));
    if (output) testCase.standardOutput(output);
  }
  // Jenkins' schema has no `skipped` on <testsuites>; the count stays on <testsuite>.
  return builder.build().replace(/(<testsuites\b[^>]*?) skipped="\d+"/, '$1');
}
