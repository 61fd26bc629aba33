import {
  FINDING_SEVERITIES,
  type GateRuleResult,
  type QualityGate,
  type QualityGateResult,
  type ResultStatus,
} from '@webguard/shared';

/** What the gate looks at of one case's result. */
export interface GateCase {
  status: ResultStatus;
  flaky: boolean;
  executionTimeMs: number | null;
  metrics: { name: string; value: number }[];
}

const FAILING: ResultStatus[] = ['failed', 'error', 'timeout'];

/** Nearest-rank percentile: a value some case really had. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

/**
 * Judges a run's cases (quarantined ones already left out) against a suite's gate. A rule with
 * nothing to measure (no case ran, a metric nobody reported) fails: a gate must not pass by
 * accident.
 */
export function evaluateGate(
  gate: QualityGate,
  cases: GateCase[],
  quarantined: string[],
  now = new Date(),
): QualityGateResult {
  const rules: GateRuleResult[] = [];
  const check = (rule: string, limit: number, value: number | null, ok: (v: number) => boolean) =>
    rules.push({ rule, limit, value, passed: value !== null && ok(value) });
  const ran = cases.filter((c) => c.status !== 'skipped');
  const failing = ran.filter((c) => FAILING.includes(c.status)).length;

  if (gate.max_failures !== undefined)
    check('max_failures', gate.max_failures, failing, (v) => v <= gate.max_failures!);
  if (gate.min_pass_rate !== undefined) {
    const rate = ran.length ? round(((ran.length - failing) / ran.length) * 100) : null;
    check('min_pass_rate', gate.min_pass_rate, rate, (v) => v >= gate.min_pass_rate!);
  }
  if (gate.max_p95_case_ms !== undefined) {
    const times = ran.flatMap((c) => (c.executionTimeMs === null ? [] : [c.executionTimeMs]));
    check(
      'max_p95_case_ms',
      gate.max_p95_case_ms,
      percentile(times, 95),
      (v) => v <= gate.max_p95_case_ms!,
    );
  }
  if (gate.max_flake_rate !== undefined) {
    const rate = ran.length ? round(ran.filter((c) => c.flaky).length / ran.length) : null;
    check('max_flake_rate', gate.max_flake_rate, rate, (v) => v <= gate.max_flake_rate!);
  }
  if (gate.max_security_findings) {
    const { severity, max } = gate.max_security_findings;
    // This severity and every worse one count.
    const counted = new Set(
      FINDING_SEVERITIES.slice(FINDING_SEVERITIES.indexOf(severity)).map((s) => `findings_${s}`),
    );
    const findings = cases
      .flatMap((c) => c.metrics)
      .filter((m) => counted.has(m.name))
      .reduce((sum, m) => sum + m.value, 0);
    check(`max_security_findings:${severity}`, max, findings, (v) => v <= max);
  }
  for (const threshold of gate.metrics ?? []) {
    const values = cases.flatMap((c) =>
      c.metrics.filter((m) => m.name === threshold.metric).map((m) => m.value),
    );
    const value =
      values.length === 0
        ? null
        : threshold.aggregate === 'min'
          ? Math.min(...values)
          : threshold.aggregate === 'avg'
            ? round(values.reduce((a, b) => a + b, 0) / values.length)
            : Math.max(...values);
    const name = `${threshold.aggregate}(${threshold.metric})`;
    if (threshold.max !== undefined)
      check(`${name} <= ${threshold.max}`, threshold.max, value, (v) => v <= threshold.max!);
    if (threshold.min !== undefined)
      check(`${name} >= ${threshold.min}`, threshold.min, value, (v) => v >= threshold.min!);
  }
  return {
    passed: rules.every((rule) => rule.passed),
    rules,
    quarantined,
    evaluated_at: now.toISOString(),
  };
}
