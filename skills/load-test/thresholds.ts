/** What a threshold can be about; latencies are in milliseconds, error_rate is a fraction. */
export const THRESHOLD_METRICS = [
  'rps',
  'requests',
  'errors',
  'error_rate',
  'min',
  'mean',
  'p50',
  'p90',
  'p95',
  'p99',
  'max',
] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

const OPERATORS = ['<=', '>=', '==', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

const LATENCY_METRICS: readonly ThresholdMetric[] = [
  'min',
  'mean',
  'p50',
  'p90',
  'p95',
  'p99',
  'max',
];

export interface Threshold {
  /** As written, for messages. */
  text: string;
  metric: ThresholdMetric;
  operator: Operator;
  /** In the metric's own unit: ms for latencies, a fraction for error_rate. */
  limit: number;
}

export type ThresholdParse = { ok: true; threshold: Threshold } | { ok: false; message: string };

const SHAPE = /^\s*([a-z_0-9]+)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$/i;

const usage = `write <metric> <operator> <number>, e.g. "p95 < 300" or "error_rate < 1%"; metrics: ${THRESHOLD_METRICS.join(', ')}; operators: ${OPERATORS.join(', ')}`;

/**
 * Parses a k6-style threshold such as `p95 < 300ms`, `error_rate < 1%` or `rps > 100`. A unit is
 * optional: `ms` or `s` on latencies, `%` on error_rate.
 */
export function parseThreshold(text: string): ThresholdParse {
  const match = SHAPE.exec(text);
  if (!match) return { ok: false, message: `"${text}" is not a threshold: ${usage}` };
  const [, rawMetric = '', operator = '<', rawNumber = '0', rawUnit] = match;
  const metric = rawMetric.toLowerCase();
  if (!(THRESHOLD_METRICS as readonly string[]).includes(metric)) {
    return {
      ok: false,
      message: `"${text}": unknown metric "${rawMetric}"; use one of ${THRESHOLD_METRICS.join(', ')}`,
    };
  }
  const known = metric as ThresholdMetric;
  const unit = rawUnit?.toLowerCase();
  let limit = Number(rawNumber);
  if (unit === '%') {
    if (known !== 'error_rate')
      return { ok: false, message: `"${text}": only error_rate takes a % value` };
    limit /= 100;
  } else if (unit === 'ms' || unit === 's') {
    if (!LATENCY_METRICS.includes(known))
      return {
        ok: false,
        message: `"${text}": only latencies (${LATENCY_METRICS.join(', ')}) take ms or s`,
      };
    if (unit === 's') limit *= 1000;
  }
  return {
    ok: true,
    threshold: { text: text.trim(), metric: known, operator: operator as Operator, limit },
  };
}

export function holds(threshold: Threshold, actual: number): boolean {
  switch (threshold.operator) {
    case '<':
      return actual < threshold.limit;
    case '<=':
      return actual <= threshold.limit;
    case '>':
      return actual > threshold.limit;
    case '>=':
      return actual >= threshold.limit;
    case '==':
      return actual === threshold.limit;
  }
}

/** The measured value as a person reads it: "512.3 ms", "25.00%", "1840.2/s". */
export function describeMeasured(metric: ThresholdMetric, value: number): string {
  if (metric === 'error_rate') return `${(value * 100).toFixed(2)}%`;
  if (metric === 'rps') return `${value.toFixed(1)}/s`;
  if (LATENCY_METRICS.includes(metric)) return `${value.toFixed(2)} ms`;
  return String(value);
}
