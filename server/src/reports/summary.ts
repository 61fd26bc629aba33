import type { ExecutionWithResults } from '@webguard/shared';

const ICON: Record<string, string> = {
  passed: '✅',
  failed: '❌',
  timeout: '⏱️',
  error: '💥',
  skipped: '⏭️',
  cancelled: '🚫',
  queued: '⏳',
  running: '⏳',
};

const duration = (ms: number | null) =>
  ms === null ? '–' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;

/** Escapes what would break a markdown table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** A markdown summary for a CI job summary or a pull-request comment. */
export function toSummaryMarkdown(execution: ExecutionWithResults, link?: string): string {
  const failed = execution.results.filter((r) => ['failed', 'timeout', 'error'].includes(r.status));
  const flaky = execution.results.filter((r) => r.flaky);
  const title = `${ICON[execution.status] ?? ''} WebGuard: ${execution.suite_name} ${execution.status}`;
  const lines = [
    `## ${link ? `[${title}](${link})` : title}`,
    '',
    `**${execution.passed_tests}** passed · **${execution.failed_tests}** failed · **${execution.skipped_tests}** skipped · ${execution.total_tests} total · ${duration(execution.execution_time_ms)}`,
  ];
  const context = [
    execution.ci_branch && `branch \`${execution.ci_branch}\``,
    execution.ci_commit_sha && `commit \`${execution.ci_commit_sha.slice(0, 12)}\``,
    execution.environment && `environment \`${execution.environment}\``,
    `execution #${execution.id}`,
  ].filter(Boolean);
  lines.push('', context.join(' · '));
  if (execution.error_message) lines.push('', `> ${cell(execution.error_message)}`);
  const gate = execution.quality_gate;
  if (gate) {
    lines.push(
      '',
      `### Quality gate ${gate.passed ? '✅ passed' : '❌ failed'}`,
      '',
      '| rule | value | limit | |',
      '|---|---|---|---|',
      ...gate.rules.map(
        (rule) =>
          `| ${cell(rule.rule)} | ${rule.value ?? '–'} | ${rule.limit} | ${rule.passed ? '✅' : '❌'} |`,
      ),
    );
    if (gate.quarantined.length > 0)
      lines.push('', `Quarantined (not counted): ${gate.quarantined.join(', ')}`);
  }
  if (failed.length > 0) {
    lines.push('', '### Failures', '', '| case | status | error |', '|---|---|---|');
    for (const result of failed)
      lines.push(
        `| ${cell(result.test_name)} | ${result.status} | ${cell(result.error_message ?? '').slice(0, 300)} |`,
      );
  }
  if (flaky.length > 0)
    lines.push(
      '',
      `### Flaky`,
      '',
      ...flaky.map((r) => `- ${r.test_name} (passed after ${r.retry_count} retries)`),
    );
  lines.push(
    '',
    '<details><summary>All cases</summary>',
    '',
    '| case | status | time |',
    '|---|---|---|',
    ...execution.results.map(
      (r) =>
        `| ${cell(r.test_name)} | ${ICON[r.status] ?? ''} ${r.status} | ${duration(r.execution_time_ms)} |`,
    ),
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}
