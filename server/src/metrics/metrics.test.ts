import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { createLogger } from '../runtime/logger.js';
import { startRuntime } from '../runtime/runtime.js';
import { closedPort } from '../../test/support/closed-port.js';
import {
  histogramQuantile,
  parsePrometheusText,
  sumOf,
  type Sample,
} from '../../test/support/prometheus-text.js';
import { TEST_REDIS_URL } from '../../test/support/redis.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { RealtimeStats } from './realtime-stats.js';

/** Known runs through the real API and workers, then the design's questions asked of /metrics. */
let t: TestRuntime;
const suites: Record<string, number> = {};
const runs: Record<string, number[]> = { 'warm-up': [], checkout: [], search: [] };

async function suite(name: string, cases: Record<string, unknown>[]) {
  const created = await t.inject({ method: 'POST', url: '/api/v1/suites', payload: { name } });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json<{ id: number }>().id;
  for (const payload of cases) {
    const response = await t.inject({ method: 'POST', url: `/api/v1/suites/${id}/cases`, payload });
    expect(response.statusCode, response.body).toBe(201);
  }
  suites[name] = id;
}

async function run(name: string) {
  const triggered = await t.inject({
    method: 'POST',
    url: '/api/v1/executions',
    payload: { suite_id: suites[name] },
  });
  expect(triggered.statusCode, triggered.body).toBe(202);
  const id = triggered.json<{ execution_id: number }>().execution_id;
  await waitFor(
    async () =>
      (await t.inject(`/api/v1/executions/${id}`)).json<{ completed_at: string | null }>()
        .completed_at ?? undefined,
    { what: `execution ${id} to finish` },
  );
  runs[name]!.push(id);
}

async function scrape(): Promise<Sample[]> {
  const response = await t.inject('/metrics');
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain');
  return parsePrometheusText(response.body);
}

beforeAll(async () => {
  t = await startTestRuntime();
  await suite('checkout', [{ name: 'ok', skill_name: 'echo', params: { message: 'hi' } }]);
  await suite('search', [{ name: 'broken', skill_name: 'fail', params: {} }]);
  // A worker's first case may wait for its sandbox thread to load the engine: not measured here.
  await suite('warm-up', [{ name: 'nothing', skill_name: 'wait', params: { ms: 0 } }]);
  // checkout: 3 passed; search: 1 failed. Both suites run in well under a second.
  for (const name of ['warm-up', 'checkout', 'checkout', 'checkout', 'search']) await run(name);
});

afterAll(async () => {
  await t?.stop();
});

describe('/metrics', () => {
  it("answers the design's pass rate and P95 by suite after known runs", async () => {
    const samples = await scrape();
    const executions = 'webguard_test_executions_total';
    // sum by (suite_name) (…{status="passed"}) / sum by (suite_name) (…)
    const passRate = (suite: string) =>
      sumOf(samples, executions, { suite_name: suite, status: 'passed' }) /
      sumOf(samples, executions, { suite_name: suite });
    expect(passRate('checkout')).toBe(1);
    expect(passRate('search')).toBe(0);
    expect(sumOf(samples, executions, { suite_name: 'search', status: 'failed' })).toBe(1);
    expect(sumOf(samples, 'webguard_test_duration_seconds_count', { suite_name: 'checkout' })).toBe(
      3,
    );
    // histogram_quantile(0.95, sum by (le) (rate(…_bucket{suite_name="checkout"}[5m]))):
    // every run lies in the first bucket (0–1 s), so the answer interpolates to 0.95 s.
    expect(
      histogramQuantile(0.95, samples, 'webguard_test_duration_seconds', {
        suite_name: 'checkout',
      }),
    ).toBeCloseTo(0.95, 5);
    const bounds = samples
      .filter(
        (s) =>
          s.name === 'webguard_test_duration_seconds_bucket' && s.labels.suite_name === 'checkout',
      )
      .map((s) => s.labels.le);
    expect(bounds).toEqual(['1', '5', '10', '30', '60', '120', '300', '600', '+Inf']);
  });

  it('counts results per skill, queues, workers and process health', async () => {
    const samples = await scrape();
    expect(
      sumOf(samples, 'webguard_skill_results_total', { skill: 'echo', status: 'passed' }),
    ).toBe(3);
    expect(
      sumOf(samples, 'webguard_skill_results_total', { skill: 'fail', status: 'failed' }),
    ).toBe(1);
    expect(sumOf(samples, 'webguard_active_tests')).toBe(0);
    expect(sumOf(samples, 'webguard_worker_up')).toBe(1);
    expect(sumOf(samples, 'webguard_workers_online')).toBeGreaterThanOrEqual(1);
    const queues = samples.filter((s) => s.name === 'webguard_queue_jobs');
    expect(new Set(queues.map((s) => s.labels.queue))).toContain('api');
    expect(
      sumOf(samples, 'webguard_queue_jobs', { queue: 'api', state: 'completed' }),
    ).toBeGreaterThanOrEqual(4);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('labels HTTP metrics with the route pattern, never the raw URL', async () => {
    await t.inject(`/api/v1/executions/${runs.checkout![0]}`);
    await t.inject('/no/such/page/12345');
    const samples = await scrape();
    const routes = new Set(
      samples.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.route),
    );
    expect(routes).toContain('/api/v1/executions/:id');
    expect(routes).toContain('unmatched');
    expect([...routes].some((route) => route?.includes('12345'))).toBe(false);
    expect(
      sumOf(samples, 'http_request_duration_seconds_count', {
        route: '/api/v1/executions/:id',
        method: 'GET',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('serves a worker-only process its own /metrics port', async () => {
    const port = await closedPort();
    const config = loadConfig({ ...t.env, WEBGUARD_METRICS_PORT: String(port) });
    const worker = await startRuntime(
      config,
      { api: false, workers: ['api'] },
      createLogger(config, 'test'),
    );
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      const samples = parsePrometheusText(await response.text());
      expect(sumOf(samples, 'webguard_worker_up')).toBe(1);
      // Cluster-wide gauges come from the API nodes only, so they are not summed twice.
      expect(samples.some((s) => s.name === 'webguard_queue_jobs')).toBe(false);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await worker.close();
    }
  });
});

describe('real-time stats in Redis', () => {
  it('counts finished runs per suite and status and caches their summaries', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const stats = new RealtimeStats(redis, t.config.queuePrefix, createLogger(t.config, 'test'));
      expect(await stats.suiteCounters(suites.checkout!)).toEqual({ passed: 3, total: 3 });
      expect(await stats.suiteCounters(suites.search!)).toEqual({ failed: 1, total: 1 });
      const summary = await stats.executionSummary(runs.search![0]!);
      expect(summary).toMatchObject({
        id: runs.search![0],
        status: 'failed',
        suite_name: 'search',
      });
    } finally {
      redis.disconnect();
    }
  });
});
