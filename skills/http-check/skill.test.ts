import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import { closedPort } from '../../server/test/support/closed-port.js';
import { json, startFixtureServer } from '../../server/test/support/fixture-server.js';
import httpCheck from './skill.js';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('http-check', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;

  beforeAll(async () => {
    server = await startFixtureServer({
      '/ok': json(200, {
        data: {
          items: [
            { id: 42, name: 'Widget' },
            { id: 43, name: 'Gadget' },
          ],
        },
      }),
      '/down': (_request, response) => {
        response.writeHead(503).end('maintenance');
      },
      '/echo': (request, response) => {
        void readBody(request).then((body) =>
          json(201, {
            method: request.method,
            type: request.headers['content-type'],
            body: JSON.parse(body) as unknown,
          })(request, response),
        );
      },
      '/slow': (request, response) => {
        setTimeout(() => json(200, {})(request, response), 300).unref();
      },
      '/html': (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Welcome</h1>');
      },
    });
  });
  afterAll(() => server.close());

  const check = async (params: Record<string, unknown>): Promise<CaseOutcome> =>
    CaseOutcome.parse(
      await runCase({
        skill: httpCheck,
        params,
        caseName: 'http check',
        executionId: null,
        timeoutMs: 10_000,
      }),
    );

  it('passes on a 2xx response and records steps, metrics and outputs', async () => {
    const outcome = await check({ url: `${server.url}/ok` });

    expect(outcome).toMatchObject({ status: 'passed', error_message: null });
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['request', 'passed'],
      ['status', 'passed'],
    ]);
    expect(outcome.metrics.map((metric) => [metric.name, metric.unit])).toEqual([
      ['response_time', 'ms'],
      ['ttfb', 'ms'],
      ['response_size', 'bytes'],
    ]);
    expect(
      outcome.metrics.find((metric) => metric.name === 'response_size')?.value,
    ).toBeGreaterThan(20);
    expect(outcome.outputs).toEqual({
      status: 200,
      response_time_ms: expect.any(Number),
      body_json: {
        data: {
          items: [
            { id: 42, name: 'Widget' },
            { id: 43, name: 'Gadget' },
          ],
        },
      },
    });
  });

  it('fails as an assertion when the status is not the expected one', async () => {
    const outcome = await check({ url: `${server.url}/down` });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: `expected status 200-299, got 503 from GET ${server.url}/down`,
    });
    expect(outcome.steps.at(-1)).toMatchObject({ name: 'status', status: 'failed' });
  });

  it('accepts a status code, a list or a range', async () => {
    expect((await check({ url: `${server.url}/down`, expected_status: 503 })).status).toBe(
      'passed',
    );
    expect((await check({ url: `${server.url}/down`, expected_status: '500-599' })).status).toBe(
      'passed',
    );
    const outcome = await check({ url: `${server.url}/ok`, expected_status: [201, 202] });
    expect(outcome.error_message).toBe(
      `expected status one of 201, 202, got 200 from GET ${server.url}/ok`,
    );
  });

  it('sends a JSON body with the method asked for', async () => {
    const outcome = await check({
      url: `${server.url}/echo`,
      method: 'POST',
      json: { name: 'new' },
      expected_status: 201,
    });
    expect(outcome.status).toBe('passed');
    expect(outcome.outputs['body_json']).toEqual({
      method: 'POST',
      type: 'application/json',
      body: { name: 'new' },
    });
  });

  it('fails when the response is slower than max_latency_ms', async () => {
    const slow = await check({ url: `${server.url}/slow`, max_latency_ms: 50 });
    expect(slow).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(slow.error_message).toMatch(
      new RegExp(`^expected a response within 50 ms, GET ${server.url}/slow took \\d+ ms$`),
    );
    expect(slow.steps.at(-1)).toMatchObject({ name: 'latency', status: 'failed' });

    const fast = await check({ url: `${server.url}/ok`, max_latency_ms: 5_000 });
    expect(fast.steps.map((step) => step.name)).toContain('latency');
    expect(fast.status).toBe('passed');
  });

  it('checks JSON values by JSONPath, one step each', async () => {
    const outcome = await check({
      url: `${server.url}/ok`,
      assertions: [
        { path: '$.data.items[0].id', equals: 42 },
        { path: '$.data.items[*].name', contains: 'Gadget' },
        { path: '$.data.items[1].name', matches: '^Gad' },
        { path: '$.data.items[0]' },
        { path: '$.data.missing', exists: false },
      ],
    });
    expect(outcome.status).toBe('passed');
    expect(outcome.steps.map((step) => step.name)).toEqual([
      'request',
      'status',
      'assert $.data.items[0].id',
      'assert $.data.items[*].name',
      'assert $.data.items[1].name',
      'assert $.data.items[0]',
      'assert $.data.missing',
    ]);
  });

  it('names the JSONPath and what it found when a value check fails', async () => {
    const wrong = await check({
      url: `${server.url}/ok`,
      assertions: [{ path: '$.data.items[0].id', equals: 7 }],
    });
    expect(wrong).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: `$.data.items[0].id was expected to equal 7 in the response of GET ${server.url}/ok, got 42`,
    });

    const missing = await check({
      url: `${server.url}/ok`,
      assertions: [{ path: '$.data.total', equals: 2 }],
    });
    expect(missing.error_message).toBe(
      `$.data.total matched nothing in the response of GET ${server.url}/ok`,
    );

    const pattern = await check({
      url: `${server.url}/ok`,
      assertions: [{ path: '$.data.items[0].name', matches: '^Gad' }],
    });
    expect(pattern.error_message).toBe(
      '$.data.items[0].name ("Widget") was expected to match /^Gad/',
    );

    const notJson = await check({
      url: `${server.url}/html`,
      assertions: [{ path: '$.title', exists: true }],
    });
    expect(notJson.error_type).toBe('assertion');
    expect(notJson.error_message).toMatch(
      new RegExp(`^the response of GET ${server.url}/html is not JSON`),
    );
  });

  it('checks that the body contains a text', async () => {
    expect((await check({ url: `${server.url}/html`, body_contains: 'Welcome' })).status).toBe(
      'passed',
    );
    const outcome = await check({ url: `${server.url}/html`, body_contains: 'Goodbye' });
    expect(outcome.error_message).toBe(
      `expected the body of GET ${server.url}/html to contain "Goodbye"; it starts with "<h1>Welcome</h1>"`,
    );
  });

  it('reports an unreachable target as a network error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    const outcome = await check({ url });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(outcome.error_message).toContain(`ECONNREFUSED`);
    expect(outcome.error_message).toContain(`(GET ${url})`);
    expect(outcome.steps).toEqual([expect.objectContaining({ name: 'request', status: 'failed' })]);
  });

  it('ends a request at timeout_ms as a timeout', async () => {
    const outcome = await check({ url: `${server.url}/slow`, timeout_ms: 50 });
    expect(outcome).toMatchObject({
      status: 'timeout',
      error_type: 'timeout',
      error_message: `GET ${server.url}/slow got no complete response within 50 ms`,
    });
  });

  it('rejects invalid params before sending anything', async () => {
    const outcome = await check({
      url: 'ftp://example.com/file',
      expected_status: 'two hundred',
      assertions: [{ path: 'data.id', matches: '(' }],
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', steps: [] });
    expect(outcome.error_message).toMatch(/^invalid params for skill "http-check": /);
    expect(outcome.error_message).toContain('url: must be an http or https URL');
    expect(outcome.error_message).toContain('expected_status: ');
    expect(outcome.error_message).toContain(
      'assertions[0].path: must be a JSONPath starting with $',
    );
    expect(outcome.error_message).toContain(
      'assertions[0].matches: must be a valid regular expression',
    );

    const bodyOnGet = await check({ url: `${server.url}/ok`, body: 'x' });
    expect(bodyOnGet.error_message).toContain('method: GET and HEAD requests cannot have a body');
    const both = await check({ url: `${server.url}/echo`, method: 'POST', body: 'x', json: {} });
    expect(both.error_message).toContain('json: give either body or json, not both');
  });
});
