import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import { closedPort } from '../../server/test/support/closed-port.js';
import { json, startFixtureServer } from '../../server/test/support/fixture-server.js';
import loadTest from './skill.js';
import { parseThreshold } from './thresholds.js';

describe('load-test', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;
  const hits: Record<string, number> = {};
  const count = (path: string) => (hits[path] = (hits[path] ?? 0) + 1);

  beforeAll(async () => {
    let flaky = 0;
    server = await startFixtureServer({
      '/fast': (request, response) => {
        count('/fast');
        json(200, { ok: true })(request, response);
      },
      '/other': (request, response) => {
        count('/other');
        json(200, { ok: true })(request, response);
      },
      '/slow': (request, response) => {
        setTimeout(() => json(200, { ok: true })(request, response), 120).unref();
      },
      '/flaky': (_request, response) => {
        response.writeHead(flaky++ % 2 === 0 ? 200 : 500).end('x');
      },
    });
  });
  afterAll(() => server.close());

  const load = async (params: Record<string, unknown>, signal?: AbortSignal) =>
    CaseOutcome.parse(
      await runCase({
        skill: loadTest,
        params,
        caseName: 'load',
        executionId: null,
        timeoutMs: 30_000,
        signal,
      }),
    );
  const metric = (outcome: CaseOutcome, name: string) =>
    outcome.metrics.find((entry) => entry.name === name)?.value;

  it('holds a constant concurrency and passes thresholds that hold', async () => {
    const outcome = await load({
      targets: [{ url: `${server.url}/fast` }],
      connections: 4,
      duration_s: 1,
      thresholds: ['p95 < 500ms', 'error_rate < 1%', 'rps > 50', 'max <= 5s'],
    });

    expect(outcome).toMatchObject({ status: 'passed', error_message: null });
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['load', 'passed'],
      ['thresholds', 'passed'],
    ]);
    const names = outcome.metrics.map((entry) => entry.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'requests',
        'rps',
        'errors',
        'error_rate',
        'latency_p50',
        'latency_p90',
        'latency_p95',
        'latency_p99',
        'latency_max',
        'status_200',
      ]),
    );
    expect(metric(outcome, 'rps')).toBeGreaterThan(50);
    expect(metric(outcome, 'status_200')).toBe(metric(outcome, 'requests'));
    expect(metric(outcome, 'error_rate')).toBe(0);
    const latency = outcome.outputs['latency_ms'] as Record<string, number>;
    expect(latency['p50']).toBeLessThanOrEqual(latency['p99'] ?? 0);
    expect(latency['p99']).toBeLessThanOrEqual(latency['max'] ?? 0);
    expect(outcome.outputs['thresholds']).toEqual([
      { threshold: 'p95 < 500ms', actual: latency['p95'], passed: true },
      { threshold: 'error_rate < 1%', actual: 0, passed: true },
      { threshold: 'rps > 50', actual: expect.any(Number), passed: true },
      { threshold: 'max <= 5s', actual: latency['max'], passed: true },
    ]);
  });

  it('fails when a slow endpoint breaks a latency threshold, naming what was measured', async () => {
    const outcome = await load({
      targets: [{ url: `${server.url}/slow` }],
      connections: 3,
      duration_s: 0.6,
      thresholds: ['p95 < 50', 'error_rate < 0.01'],
    });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(outcome.error_message).toMatch(
      /^1 of 2 thresholds failed: p95 < 50 \(p95 was \d+\.\d\d ms\)$/,
    );
    expect(outcome.steps.at(-1)).toMatchObject({ name: 'thresholds', status: 'failed' });
    expect(metric(outcome, 'latency_p95')).toBeGreaterThanOrEqual(120);
  });

  it('counts unexpected statuses as errors in the status histogram', async () => {
    const outcome = await load({
      targets: [{ url: `${server.url}/flaky` }],
      connections: 2,
      duration_s: 0.5,
      thresholds: ['error_rate < 1%'],
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.error_message).toMatch(
      /^1 of 1 thresholds failed: error_rate < 1% \(error_rate was (4|5)\d\.\d\d%\)$/,
    );
    const ok = metric(outcome, 'status_200') ?? 0;
    const failed = metric(outcome, 'status_500') ?? 0;
    expect(Math.abs(ok - failed)).toBeLessThanOrEqual(2);
    expect(metric(outcome, 'errors')).toBe(failed);
  });

  it('starts requests at a constant rate after a linear ramp, spread over targets by weight', async () => {
    hits['/fast'] = 0;
    hits['/other'] = 0;
    const outcome = await load({
      targets: [
        { url: `${server.url}/fast`, weight: 3 },
        { url: `${server.url}/other`, weight: 1 },
      ],
      mode: 'rate',
      rate: 200,
      // Room for slow responses on a busy machine: nothing due is dropped.
      connections: 50,
      ramp_up_s: 0.5,
      duration_s: 1,
      // Generous: other test files load the same two cores while this runs.
      thresholds: ['rps > 50'],
    });
    expect(outcome.status).toBe('passed');
    // 200/s × 1 s at full rate plus half of that over the 0.5 s ramp.
    const requests = metric(outcome, 'requests') ?? 0;
    expect(requests).toBeGreaterThan(250 * 0.6);
    expect(requests).toBeLessThan(250 * 1.15);
    expect(hits['/fast']).toBeGreaterThan(2.5 * (hits['/other'] ?? 0));
    const targets = outcome.outputs['targets'] as { url: string; requests: number }[];
    expect(targets.map((target) => target.url)).toEqual([
      `${server.url}/fast`,
      `${server.url}/other`,
    ]);
  });

  it('drops requests in rate mode when max_in_flight are already waiting', async () => {
    const outcome = await load({
      targets: [{ url: `${server.url}/slow` }],
      mode: 'rate',
      rate: 100,
      max_in_flight: 2,
      duration_s: 0.5,
    });
    expect(outcome.status).toBe('passed');
    expect(metric(outcome, 'dropped')).toBeGreaterThan(20);
  });

  it('reports an unreachable target as a network error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    const outcome = await load({ targets: [{ url }], connections: 2, duration_s: 0.3 });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(outcome.error_message).toMatch(
      /^none of \d+ requests got a response: ECONNREFUSED \(\d+\)$/,
    );
  });

  it('stops the load promptly when the case is cancelled', async () => {
    hits['/fast'] = 0;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const startedAt = Date.now();
    const outcome = await load(
      { targets: [{ url: `${server.url}/fast` }], connections: 2, duration_s: 60 },
      controller.signal,
    );
    expect(outcome).toMatchObject({ status: 'error', error_message: 'cancelled' });
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    const atCancel = hits['/fast'] ?? 0;
    expect(atCancel).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hits['/fast']).toBeLessThanOrEqual(atCancel + 2);
  });

  it('rejects bad params, naming each field', async () => {
    const outcome = await load({
      targets: [{ url: 'ftp://example.com/' }],
      mode: 'rate',
      duration_s: 0,
      thresholds: ['p96 < 300', 'p95 <> 300', 'rps < 5%'],
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', steps: [] });
    expect(outcome.error_message).toMatch(/^invalid params for skill "load-test": /);
    expect(outcome.error_message).toContain('targets[0].url: must be an http or https URL');
    expect(outcome.error_message).toContain('duration_s: ');
    expect(outcome.error_message).toContain(
      'thresholds[0]: "p96 < 300": unknown metric "p96"; use one of rps,',
    );
    expect(outcome.error_message).toContain(
      'thresholds[1]: "p95 <> 300" is not a threshold: write <metric> <operator> <number>',
    );
    expect(outcome.error_message).toContain(
      'thresholds[2]: "rps < 5%": only error_rate takes a % value',
    );
    const noRate = await load({
      targets: [{ url: `${server.url}/fast` }],
      mode: 'rate',
      duration_s: 1,
    });
    expect(noRate.error_message).toContain('rate: rate mode needs a rate (requests per second)');
  });
});

describe('parseThreshold', () => {
  it('reads metrics, operators and units', () => {
    expect(parseThreshold('p99<=1.5s')).toEqual({
      ok: true,
      threshold: { text: 'p99<=1.5s', metric: 'p99', operator: '<=', limit: 1500 },
    });
    expect(parseThreshold(' ERROR_RATE < 2.5% ')).toMatchObject({
      ok: true,
      threshold: { metric: 'error_rate', limit: 0.025 },
    });
    expect(parseThreshold('requests >= 10')).toMatchObject({ ok: true });
    expect(parseThreshold('errors == 0')).toMatchObject({ ok: true });
    expect(parseThreshold('rps > 10ms')).toEqual({
      ok: false,
      message: '"rps > 10ms": only latencies (min, mean, p50, p90, p95, p99, max) take ms or s',
    });
  });
});
