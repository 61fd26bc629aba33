import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaseOutcome,
  MAX_LOG_ENTRIES,
  defineSkill,
  z,
  type LogEntry,
  type MetricRecord,
  type SkillContext,
  type SkillDefinition,
  type SkillOutputs,
  type StepRecord,
} from '@webguard/shared';
import { closedPort } from '../../test/support/closed-port.js';
import { json, startFixtureServer } from '../../test/support/fixture-server.js';
import { runCase, type RunCaseInput } from './run-case.js';

/** A skill with no params whose run is the given function. */
function skillThat(run: (ctx: SkillContext) => unknown, timeoutMs?: number): SkillDefinition {
  return defineSkill({
    name: 'test-skill',
    category: 'api',
    version: '1.0.0',
    description: 'runs a test body',
    params: z.object({}),
    timeoutMs,
    // Outputs of the wrong shape are what some tests are about.
    run: (ctx) => run(ctx) as SkillOutputs,
  });
}

async function run(
  overrides: Partial<RunCaseInput> & Pick<RunCaseInput, 'skill'>,
): Promise<CaseOutcome> {
  const outcome = await runCase({
    params: {},
    caseName: 'a case',
    executionId: 7,
    timeoutMs: 10_000,
    ...overrides,
  });
  // Every outcome, however the case ended, must fit the contract the worker stores.
  return CaseOutcome.parse(outcome);
}

describe('runCase', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;

  beforeAll(async () => {
    server = await startFixtureServer({
      '/items': json(200, { items: [1, 2, 3] }),
      '/down': json(503, { error: 'down' }),
    });
  });
  afterAll(() => server.close());

  it('passes a case that checks a real response, with steps, metrics, logs and outputs', async () => {
    const seen = {
      logs: [] as LogEntry[],
      steps: [] as StepRecord[],
      metrics: [] as MetricRecord[],
    };
    const skill = skillThat(async (ctx) => {
      const response = await ctx.step('fetch items', () =>
        ctx.http.request({ url: `${server.url}/items` }),
      );
      ctx.expect(response.status, 'status').toBe(200);
      ctx.metric('response_time', response.timings.total_ms, 'ms');
      ctx.metric('items', 3);
      ctx.log.info('got items', { count: 3 });
      return { count: (response.json() as { items: number[] }).items.length, run: ctx.run };
    });

    const outcome = await run({
      skill,
      onLog: (entry) => seen.logs.push(entry),
      onStep: (step) => seen.steps.push(step),
      onMetric: (metric) => seen.metrics.push(metric),
    });

    expect(outcome).toMatchObject({
      status: 'passed',
      error_type: null,
      error_message: null,
      stack_trace: null,
      outputs: { count: 3, run: { executionId: 7, caseName: 'a case' } },
    });
    expect(outcome.steps).toEqual([
      {
        name: 'fetch items',
        status: 'passed',
        started_at: expect.any(String),
        duration_ms: expect.any(Number),
      },
    ]);
    expect(outcome.metrics).toEqual([
      { name: 'response_time', value: expect.any(Number), unit: 'ms' },
      { name: 'items', value: 3, unit: null },
    ]);
    expect(outcome.logs).toEqual([
      { time: expect.any(String), level: 'info', message: 'got items', data: { count: 3 } },
    ]);
    expect(seen).toEqual({ logs: outcome.logs, steps: outcome.steps, metrics: outcome.metrics });
    expect(Date.parse(outcome.completed_at)).toBeGreaterThanOrEqual(Date.parse(outcome.started_at));
  });

  it('fails a case whose check does not hold, recording the failed step', async () => {
    const skill = skillThat(async (ctx) => {
      const response = await ctx.http.request({ url: `${server.url}/down` });
      await ctx.step('status is 200', () => ctx.expect(response.status, 'status').toBe(200));
    });
    const outcome = await run({ skill });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: 'status (503) was expected to be 200',
      outputs: {},
    });
    expect(outcome.stack_trace).toContain('AssertionFailedError');
    expect(outcome.steps).toEqual([
      expect.objectContaining({
        name: 'status is 200',
        status: 'failed',
        error: 'status (503) was expected to be 200',
      }),
    ]);
  });

  it('reports a network error with the URL when the target is down', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    const outcome = await run({
      skill: skillThat((ctx) => ctx.http.request({ url }).then(() => undefined)),
    });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'network', stack_trace: null });
    expect(outcome.error_message).toMatch(
      /^connect ECONNREFUSED 127\.0\.0\.1:\d+ \(GET http:\/\/127\.0\.0\.1:\d+\/\)$/,
    );
  });

  it('ends at the deadline even when the skill ignores its signal', async () => {
    let signal: AbortSignal | undefined;
    const skill = skillThat(async (ctx) => {
      signal = ctx.signal;
      await ctx.step('wait forever', () => new Promise(() => undefined));
    });
    const started = performance.now();
    const outcome = await run({ skill, timeoutMs: 200 });
    const elapsed = performance.now() - started;

    expect(outcome).toMatchObject({
      status: 'timeout',
      error_type: 'timeout',
      error_message: "the case timed out after 200 ms (the case's limit)",
    });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
    expect(outcome.steps).toEqual([
      expect.objectContaining({
        name: 'wait forever',
        status: 'failed',
        error: "the case timed out after 200 ms (the case's limit)",
      }),
    ]);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ name: 'TimeoutError' });
  });

  it("applies the skill's own limit when it is lower than the case's", async () => {
    const skill = skillThat(() => new Promise(() => undefined), 100);
    const outcome = await run({ skill, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({
      status: 'timeout',
      error_message: 'the case timed out after 100 ms (skill "test-skill"\'s limit)',
    });
  });

  it('drops what a skill does after its deadline and refuses its next step', async () => {
    let lateStepError: unknown;
    const skill = skillThat(async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      ctx.log.info('too late');
      ctx.metric('late', 1);
      await ctx
        .step('late step', () => 'never runs')
        .catch((error: unknown) => {
          lateStepError = error;
        });
    });
    const outcome = await run({ skill, timeoutMs: 50 });
    expect(outcome.status).toBe('timeout');
    await expect.poll(() => lateStepError).toMatchObject({ name: 'TimeoutError' });
    expect(outcome).toMatchObject({ logs: [], metrics: [], steps: [] });
  });

  it('ends a cancelled case at once as error/system "cancelled"', async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const skill = skillThat(async (ctx) => {
      signal = ctx.signal;
      setTimeout(() => controller.abort(), 20);
      await new Promise(() => undefined);
    });
    const outcome = await run({ skill, signal: controller.signal });
    expect(outcome).toMatchObject({
      status: 'error',
      error_type: 'system',
      error_message: 'cancelled',
    });
    expect(signal?.aborted).toBe(true);
  });

  it('does not start a case that was cancelled before it began', async () => {
    let ran = false;
    const skill = skillThat(() => {
      ran = true;
    });
    const outcome = await run({ skill, signal: AbortSignal.abort() });
    expect(outcome).toMatchObject({
      status: 'error',
      error_type: 'system',
      error_message: 'cancelled',
    });
    expect(ran).toBe(false);
  });

  it('rejects invalid params before running, naming each bad field', async () => {
    let ran = false;
    const skill = defineSkill({
      name: 'strict',
      category: 'api',
      version: '1.0.0',
      description: 'needs params',
      params: z.object({
        url: z.url(),
        retries: z.number().int(),
        headers: z.record(z.string(), z.string()),
      }),
      run: () => {
        ran = true;
      },
    });
    const outcome = await run({
      skill,
      params: { url: 'nope', retries: 1.5, headers: { Accept: 1 } },
    });
    expect(outcome.status).toBe('error');
    expect(outcome.error_type).toBe('system');
    expect(outcome.error_message).toMatch(/^invalid params for skill "strict": /);
    expect(outcome.error_message).toContain('url: Invalid URL');
    expect(outcome.error_message).toContain('retries: ');
    expect(outcome.error_message).toContain('headers.Accept: ');
    expect(ran).toBe(false);
  });

  it('passes parsed params, defaults applied, to the skill', async () => {
    const skill = defineSkill({
      name: 'defaults',
      category: 'api',
      version: '1.0.0',
      description: 'echoes params',
      params: z.object({ method: z.string().default('GET') }),
      run: (_ctx, params) => ({ method: params.method }),
    });
    expect((await run({ skill })).outputs).toEqual({ method: 'GET' });
  });

  it('turns a bad metric into a system error naming it', async () => {
    const outcome = await run({
      skill: skillThat((ctx) => ctx.metric('latency', Number.NaN, 'ms')),
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(outcome.error_message).toMatch(/^metric "latency" is invalid: value: /);
  });

  it('keeps JSON outputs, treats no outputs as {} and rejects anything that is not a JSON object', async () => {
    expect((await run({ skill: skillThat(() => undefined) })).outputs).toEqual({});
    expect(
      (await run({ skill: skillThat(() => ({ at: new Date(0), gone: undefined })) })).outputs,
    ).toEqual({
      at: '1970-01-01T00:00:00.000Z',
    });
    for (const [value, reason] of [
      [[1, 2], 'an array is not a JSON object'],
      ['text', 'a string is not a JSON object'],
      [null, 'null is not a JSON object'],
      [new Map(), 'an instance of Map is not a JSON object'],
      [{ big: 1n }, 'it cannot be written as JSON'],
    ] as const) {
      const outcome = await run({ skill: skillThat(() => value) });
      expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
      expect(outcome.error_message).toContain(
        `the skill's outputs must be a JSON object or nothing, but ${reason}`,
      );
    }
  });

  it('reports a skill that throws synchronously as a system error with its stack', async () => {
    const outcome = await run({
      skill: skillThat(() => {
        throw new TypeError('boom');
      }),
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', error_message: 'boom' });
    expect(outcome.stack_trace).toContain('TypeError: boom');
  });

  it('keeps the case going when a listener throws', async () => {
    const outcome = await run({
      skill: skillThat((ctx) => ctx.log.info('hello')),
      onLog: () => {
        throw new Error('publisher down');
      },
    });
    expect(outcome.status).toBe('passed');
    expect(outcome.logs).toHaveLength(1);
  });

  it(`keeps at most ${MAX_LOG_ENTRIES} log lines and says how many were dropped`, async () => {
    const outcome = await run({
      skill: skillThat((ctx) => {
        for (let i = 0; i < MAX_LOG_ENTRIES + 5; i++) ctx.log.debug(`line ${i}`);
      }),
    });
    expect(outcome.logs).toHaveLength(MAX_LOG_ENTRIES);
    expect(outcome.logs.at(-1)).toMatchObject({
      level: 'warn',
      message: `6 more log lines were not kept (a case keeps at most ${MAX_LOG_ENTRIES})`,
    });
  });

  it('forwards skill logs to the pino logger with the execution and case', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    await run({ skill: skillThat((ctx) => ctx.log.warn('careful', { retries: 2 })), logger });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'careful',
        execution_id: 7,
        case_name: 'a case',
        skill: 'test-skill',
        data: { retries: 2 },
      }),
    );
  });
});
