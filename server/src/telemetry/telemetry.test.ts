import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { WORKER_QUEUES } from '../queues/job-catalog.js';
import { createLogger } from '../runtime/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';
import { startFixtureServer } from '../../test/support/fixture-server.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';

/** Log lines a runtime writes, parsed. */
class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** A stand-in OpenTelemetry collector: keeps the spans posted to it (OTLP/HTTP JSON). */
const received: OtlpSpan[] = [];
let collector: Awaited<ReturnType<typeof startFixtureServer>>;
let t: TestRuntime;
let traced: Runtime;
const logs = new LogLines();

beforeAll(async () => {
  collector = await startFixtureServer({
    '/v1/traces': (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const payload = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const resource of payload.resourceSpans)
          for (const scope of resource.scopeSpans) received.push(...scope.spans);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    },
  });
  // The test runtime provides the database, queue prefix and credentials; the traced one works.
  t = await startTestRuntime({}, { workers: [] });
  const config = loadConfig({
    ...t.env,
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  });
  traced = await startRuntime(
    config,
    { api: true, workers: WORKER_QUEUES, listen: false },
    createLogger(config, 'test', logs),
  );
});

afterAll(async () => {
  await traced?.close();
  await t?.stop();
  await collector?.close();
});

const inject = (options: { method?: 'GET' | 'POST'; url: string; payload?: object }) =>
  traced.app!.inject({ ...options, headers: t.authHeaders() });

describe('traces', () => {
  it('follow a run from its trigger through each case to each step, with trace ids in the logs', async () => {
    const suite = await inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name: 'traced' },
    });
    expect(suite.statusCode, suite.body).toBe(201);
    const suiteId = suite.json<{ id: number }>().id;
    const created = await inject({
      method: 'POST',
      url: `/api/v1/suites/${suiteId}/cases`,
      payload: { name: 'greet', skill_name: 'echo', params: { message: 'hi there' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const triggered = await inject({
      method: 'POST',
      url: '/api/v1/executions',
      payload: { suite_id: suiteId },
    });
    expect(triggered.statusCode, triggered.body).toBe(202);
    const executionId = triggered.json<{ execution_id: number }>().execution_id;
    await waitFor(
      async () =>
        (await inject({ url: `/api/v1/executions/${executionId}` })).json<{
          completed_at: string | null;
        }>().completed_at ?? undefined,
      { what: 'the traced run to finish' },
    );
    // Closing flushes the spans still buffered.
    await traced.close();

    const trigger = received.find((span) => span.name === 'execution.trigger');
    const testCase = received.find((span) => span.name === 'case greet');
    const step = received.find((span) => span.name === 'step say hi there');
    expect(trigger && testCase && step, JSON.stringify(received.map((s) => s.name))).toBeTruthy();
    expect(testCase!.traceId).toBe(trigger!.traceId);
    expect(testCase!.parentSpanId).toBe(trigger!.spanId);
    expect(step!.traceId).toBe(trigger!.traceId);
    expect(step!.parentSpanId).toBe(testCase!.spanId);

    const skillLine = logs.lines.find((line) => line.source === 'skill' && line.msg === 'hi there');
    expect(skillLine).toMatchObject({
      trace_id: trigger!.traceId,
      execution_id: executionId,
      case_name: 'greet',
    });
  });
});

describe('logs', () => {
  it('write secrets as [redacted] and carry no trace ids outside a span', () => {
    const lines = new LogLines();
    const logger = createLogger({ logLevel: 'info' }, 'test', lines);
    logger.info(
      { password: 'hunter2', headers: { authorization: 'Bearer abc' }, user: 'ann' },
      'x',
    );
    logger.flush();
    expect(lines.lines[0]).toMatchObject({
      password: '[redacted]',
      headers: { authorization: '[redacted]' },
      user: 'ann',
      role: 'test',
    });
    expect(lines.lines[0]).not.toHaveProperty('trace_id');
  });
});
