import {
  AssertionFailedError,
  NetworkError,
  defineSkill,
  z,
  type JsonObject,
  type SkillContext,
} from '@webguard/shared';
import { HTTP_METHODS, StatusRange, statusMatcher } from '../lib/http.js';
import { generateLoad, type LoadResult, type LoadTarget } from './load-generator.js';
import {
  describeMeasured,
  holds,
  parseThreshold,
  type Threshold,
  type ThresholdMetric,
} from './thresholds.js';

const ThresholdText = z
  .string()
  .describe('a threshold such as "p95 < 300", "error_rate < 1%" or "rps > 100"')
  .transform((text, ctx) => {
    const parsed = parseThreshold(text);
    if (parsed.ok) return parsed.threshold;
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  });

const Target = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .describe('URL to load'),
    method: z.enum(HTTP_METHODS).default('GET').describe('HTTP method'),
    headers: z.record(z.string(), z.string()).optional().describe('request headers'),
    body: z.string().optional().describe('request body sent with every request'),
    weight: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('share of the requests relative to the other targets (default 1)'),
  })
  .describe('an endpoint to put load on');

const Params = z
  .object({
    targets: z
      .array(Target)
      .min(1, 'give at least one target')
      .max(20)
      .describe('endpoints to load; requests are spread over them by weight'),
    mode: z
      .enum(['concurrency', 'rate'])
      .default('concurrency')
      .describe(
        'concurrency: keep connections × pipelining requests in flight; rate: start `rate` requests per second whatever the response times',
      ),
    connections: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe('connections per target origin (concurrency mode: also the number of users)'),
    pipelining: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('HTTP/1.1 requests sent on a connection before its first answer (1: none)'),
    rate: z
      .number()
      .positive()
      .max(1_000_000)
      .optional()
      .describe('rate mode: requests started per second at full load'),
    max_in_flight: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe(
        'rate mode: a request due while this many wait is dropped and counted (default connections × pipelining)',
      ),
    duration_s: z
      .number()
      .positive()
      .max(3600)
      .describe('how long the full load lasts, after the ramp-up (s)'),
    ramp_up_s: z
      .number()
      .min(0)
      .max(3600)
      .default(0)
      .describe('time to grow linearly from no load to the full load, before duration_s (s)'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(10_000)
      .describe(
        'a request waiting longer for its response headers, or between two body chunks, is an error (ms)',
      ),
    expected_status: StatusRange.default('200-399').describe(
      'statuses that count as success; any other, and any request without a response, is an error',
    ),
    thresholds: z
      .array(ThresholdText)
      .default([])
      .describe(
        'k6-style pass criteria, all of which must hold, e.g. "p95 < 300", "error_rate < 1%", "rps > 100"',
      ),
  })
  .refine((params) => params.mode !== 'rate' || params.rate !== undefined, {
    message: 'rate mode needs a rate (requests per second)',
    path: ['rate'],
  });
type Params = z.output<typeof Params>;

/** Every value a threshold can test, from one run. */
function measuredValues(result: LoadResult): Record<ThresholdMetric, number> {
  const seconds = result.elapsedMs / 1000;
  const latency = result.latency;
  return {
    rps: seconds > 0 ? result.requestsInWindow / seconds : 0,
    requests: result.requests,
    errors: result.errors,
    error_rate: result.requests > 0 ? result.errors / result.requests : 0,
    min: latency?.min ?? 0,
    mean: latency?.mean ?? 0,
    p50: latency?.p50 ?? 0,
    p90: latency?.p90 ?? 0,
    p95: latency?.p95 ?? 0,
    p99: latency?.p99 ?? 0,
    max: latency?.max ?? 0,
  };
}

function recordMetrics(
  ctx: SkillContext,
  result: LoadResult,
  values: Record<ThresholdMetric, number>,
) {
  ctx.metric('requests', result.requests);
  ctx.metric('rps', Math.round(values.rps * 10) / 10, 'req/s');
  ctx.metric('errors', result.errors);
  ctx.metric('error_rate', values.error_rate, 'ratio');
  if (result.latency) {
    for (const name of ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const)
      ctx.metric(`latency_${name}`, result.latency[name], 'ms');
  }
  ctx.metric('data_received', result.bytesReceived, 'bytes');
  if (result.dropped > 0) ctx.metric('dropped', result.dropped);
  for (const [status, count] of Object.entries(result.statuses))
    ctx.metric(`status_${status}`, count);
  const noResponse = Object.values(result.failures).reduce((sum, count) => sum + count, 0);
  if (noResponse > 0) ctx.metric('status_none', noResponse);
}

function describeFailures(failures: Record<string, number>): string {
  return Object.entries(failures)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} (${count})`)
    .join(', ');
}

function toTargets(params: Params): LoadTarget[] {
  return params.targets.map((target) => ({
    url: new URL(target.url),
    method: target.method,
    headers: target.headers ?? {},
    body: target.body,
    weight: target.weight,
  }));
}

function checkThresholds(thresholds: Threshold[], values: Record<ThresholdMetric, number>) {
  return thresholds.map((threshold) => ({
    threshold,
    actual: values[threshold.metric],
    passed: holds(threshold, values[threshold.metric]),
  }));
}

export default defineSkill({
  name: 'load-test',
  category: 'performance',
  version: '1.0.0',
  description:
    'Puts a constant concurrency or a constant request rate on one or more endpoints for a duration, with a ramp-up, and checks latency percentiles, error rate and throughput against thresholds.',
  params: Params,
  async run(ctx, params) {
    const connections = params.connections;
    const result = await ctx.step('load', () =>
      generateLoad({
        targets: toTargets(params),
        mode: params.mode,
        connections,
        pipelining: params.pipelining,
        rate: params.rate ?? 0,
        maxInFlight: params.max_in_flight ?? connections * params.pipelining,
        durationMs: params.duration_s * 1000,
        rampUpMs: params.ramp_up_s * 1000,
        timeoutMs: params.timeout_ms,
        isSuccess: statusMatcher(params.expected_status),
        signal: ctx.signal,
      }),
    );
    const values = measuredValues(result);
    recordMetrics(ctx, result, values);
    ctx.log.info(
      `${result.requests} requests in ${(result.elapsedMs / 1000).toFixed(1)} s: ${values.rps.toFixed(1)} req/s, p95 ${values.p95} ms, error rate ${describeMeasured('error_rate', values.error_rate)}`,
      { statuses: result.statuses, failures: result.failures, dropped: result.dropped },
    );

    const answered = Object.values(result.statuses).reduce((sum, count) => sum + count, 0);
    if (result.requests > 0 && answered === 0) {
      throw new NetworkError(
        `none of ${result.requests} requests got a response: ${describeFailures(result.failures)}`,
      );
    }

    const checks = checkThresholds(params.thresholds, values);
    const outputs: JsonObject = {
      requests: result.requests,
      rps: Math.round(values.rps * 10) / 10,
      errors: result.errors,
      error_rate: values.error_rate,
      dropped: result.dropped,
      latency_ms: result.latency ? { ...result.latency } : null,
      statuses: result.statuses,
      failures: result.failures,
      targets: result.targets.map((target) => ({
        ...target,
        latency_ms: target.latency_ms ? { ...target.latency_ms } : null,
      })),
      thresholds: checks.map((check) => ({
        threshold: check.threshold.text,
        actual: check.actual,
        passed: check.passed,
      })),
    };

    if (checks.length > 0) {
      await ctx.step('thresholds', () => {
        const failed = checks.filter((check) => !check.passed);
        if (failed.length === 0) return;
        const reasons = failed.map(
          ({ threshold, actual }) =>
            `${threshold.text} (${threshold.metric} was ${describeMeasured(threshold.metric, actual)})`,
        );
        throw new AssertionFailedError(
          `${failed.length} of ${checks.length} thresholds failed: ${reasons.join('; ')}`,
        );
      });
    }
    return outputs;
  },
});
