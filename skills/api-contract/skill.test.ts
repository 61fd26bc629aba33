import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import { closedPort } from '../../server/test/support/closed-port.js';
import { startFixtureServer } from '../../server/test/support/fixture-server.js';
import apiContract from './skill.js';

/** A small pet store: the document every test checks a server against. */
function petStore(serverUrl: string) {
  return {
    openapi: '3.0.3',
    info: { title: 'Pets', version: '1.0.0' },
    servers: [{ url: serverUrl }],
    paths: {
      '/pets': {
        get: {
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', format: 'int32' } },
          ],
          responses: {
            '200': {
              description: 'the pets',
              headers: {
                'X-Total': { required: true, schema: { type: 'integer', minimum: 0 } },
              },
              content: {
                'application/json': {
                  schema: { type: 'array', items: { $ref: '#/components/schemas/Pet' } },
                },
              },
            },
            default: { $ref: '#/components/responses/Error' },
          },
        },
        post: {
          requestBody: {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } },
          },
          responses: {
            '201': {
              description: 'created',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } },
            },
          },
        },
      },
      '/pets/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        get: {
          parameters: [{ name: 'X-Trace', in: 'header', schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'a pet',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } },
            },
            '404': { $ref: '#/components/responses/Error' },
          },
        },
      },
      '/health': {
        get: {
          responses: {
            '200': {
              description: 'up',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['status'],
                    properties: { status: { type: 'string', enum: ['ok'] } },
                  },
                },
              },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Pet: {
          type: 'object',
          required: ['id', 'name'],
          additionalProperties: false,
          properties: {
            id: { type: 'integer', format: 'int64' },
            name: { type: 'string', minLength: 1 },
            tag: { type: 'string', nullable: true },
            parent: { $ref: '#/components/schemas/Pet' },
          },
        },
      },
      responses: {
        Error: {
          description: 'an error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['message'],
                properties: { message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}

const send =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_request: IncomingMessage, response: ServerResponse) => {
    response
      .writeHead(status, { 'content-type': 'application/json', ...headers })
      .end(typeof body === 'string' ? body : JSON.stringify(body));
  };

describe('api-contract', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;
  let dir: string;
  const traces: (string | undefined)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webguard-api-contract-'));
    server = await startFixtureServer({
      '/openapi.json': (request, response) => send(200, petStore('/v1'))(request, response),
      '/v1/pets': (request, response) => {
        if (request.method === 'POST') {
          send(201, { id: 3, name: 'Rex' })(request, response);
          return;
        }
        send(200, [{ id: 1, name: 'Tom', tag: null, parent: { id: 0, name: 'Old Tom' } }], {
          'x-total': '1',
        })(request, response);
      },
      '/v1/pets/1': (request, response) => {
        traces.push(request.headers['x-trace'] as string | undefined);
        send(200, { id: 1, name: 'Tom' })(request, response);
      },
      '/v1/pets/404': send(404, { message: 'no such pet' }),
      '/v1/health': send(200, { status: 'ok' }),
      // The broken implementation of the same API.
      '/broken/pets': send(200, [
        { id: 1, name: 'Tom' },
        { id: 'two', tag: 5, color: 'red', parent: { id: 3, name: '' } },
      ]),
      '/broken/health': (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<p>ok</p>');
      },
      '/broken/pets/1': send(500, { message: 'boom' }),
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const check = async (params: Record<string, unknown>) =>
    CaseOutcome.parse(
      await runCase({
        skill: apiContract,
        params,
        caseName: 'contract',
        executionId: null,
        timeoutMs: 20_000,
      }),
    );

  it('passes an API that keeps its document, calling every simple GET by default', async () => {
    const outcome = await check({ document: `${server.url}/openapi.json` });

    expect(outcome).toMatchObject({ status: 'passed', error_message: null });
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['load document', 'passed'],
      ['GET /pets', 'passed'],
      ['GET /health', 'passed'],
    ]);
    expect(outcome.outputs).toEqual({
      base_url: `${server.url}/v1`,
      operations: [
        { operation: 'GET /pets', url: `${server.url}/v1/pets`, status: 200, mismatches: 0 },
        { operation: 'GET /health', url: `${server.url}/v1/health`, status: 200, mismatches: 0 },
      ],
      mismatches: [],
    });
    expect(outcome.metrics.map((metric) => metric.name)).toEqual([
      'response_time GET /pets',
      'response_time GET /health',
      'operations',
      'mismatches',
    ]);
  });

  it('calls the operations asked for with their parameters and bodies', async () => {
    const outcome = await check({
      document: petStore(`${server.url}/v1`),
      operations: [
        { method: 'get', path: '/pets/{id}', params: { id: 1, 'X-Trace': 'abc' } },
        { method: 'GET', path: '/pets/{id}', params: { id: 404 }, expected_status: 404 },
        { method: 'POST', path: '/pets', body: { id: 3, name: 'Rex' }, expected_status: 201 },
        { method: 'GET', path: '/pets', params: { limit: 5 } },
      ],
    });
    expect(outcome).toMatchObject({ status: 'passed' });
    expect(traces).toContain('abc');
    expect((outcome.outputs['operations'] as { url: string }[]).map((op) => op.url)).toEqual([
      `${server.url}/v1/pets/1`,
      `${server.url}/v1/pets/404`,
      `${server.url}/v1/pets`,
      `${server.url}/v1/pets?limit=5`,
    ]);
  });

  it('fails an API that breaks its document, naming every mismatch by JSON path', async () => {
    const outcome = await check({
      document: petStore(`${server.url}/broken`),
      operations: [
        { method: 'GET', path: '/pets' },
        { method: 'GET', path: '/health' },
        { method: 'GET', path: '/pets/{id}', params: { id: 1 } },
      ],
    });

    expect(outcome).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(outcome.error_message).toBe(
      '9 mismatches with the OpenAPI document in 3 of 3 operations: ' +
        'GET /pets header X-Total: is required but missing; ' +
        'GET /pets $[1].name: is required but missing; ' +
        'GET /pets $[1].color: is not allowed by the schema (additionalProperties); ' +
        'GET /pets $[1].id: must be integer, got "two"; ' +
        'GET /pets $[1].tag: must be string, got 5; ' +
        'GET /pets $[1].parent.name: must NOT have fewer than 1 characters, got ""; ' +
        'GET /health header content-type: expected application/json, got "text/html"; ' +
        'GET /pets/{id} status: expected 2xx, got 500; ' +
        'GET /pets/{id} status: 500 is not declared (declared: 200, 404)',
    );
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['load document', 'passed'],
      ['GET /pets', 'failed'],
      ['GET /health', 'failed'],
      ['GET /pets/{id}', 'failed'],
    ]);
    expect(outcome.steps[1]?.error).toMatch(
      /^GET \/pets header X-Total: is required but missing; /,
    );
    expect(outcome.logs.at(-1)).toMatchObject({
      level: 'error',
      message: '9 mismatches with the OpenAPI document',
      data: {
        mismatches: expect.arrayContaining([
          { operation: 'GET /pets', path: '$[1].id', message: 'must be integer, got "two"' },
        ]),
      },
    });
  });

  it('reports mismatches as outputs when fail_on_mismatch is false', async () => {
    const outcome = await check({
      document: petStore(`${server.url}/broken`),
      operations: [{ method: 'GET', path: '/health' }],
      fail_on_mismatch: false,
    });
    expect(outcome.status).toBe('passed');
    expect(outcome.outputs['mismatches']).toEqual([
      {
        operation: 'GET /health',
        path: 'header content-type',
        message: 'expected application/json, got "text/html"',
      },
    ]);
    expect(outcome.steps.at(-1)).toMatchObject({ name: 'GET /health', status: 'failed' });
  });

  it('reads a YAML document from a file, with base_url for its relative server', async () => {
    const file = join(dir, 'health.yaml');
    await writeFile(
      file,
      [
        'openapi: 3.1.0',
        'info: { title: Health, version: "1" }',
        'servers: [{ url: /v1 }]',
        'paths:',
        '  /health:',
        '    get:',
        '      responses:',
        "        '200':",
        '          description: up',
        '          content:',
        '            application/json:',
        '              schema: { type: object, required: [status], properties: { status: { type: [string, "null"] } } }',
        '',
      ].join('\n'),
    );
    const outcome = await check({ document: file, base_url: `${server.url}/v1` });
    expect(outcome).toMatchObject({ status: 'passed' });
    const relative = await check({ document: file });
    expect(relative).toMatchObject({
      status: 'error',
      error_message: `the document's server URL "/v1" is relative and the document was not loaded from a URL: set base_url`,
    });
  });

  it('rejects a document that is not valid OpenAPI 3, and operations it does not have', async () => {
    const invalid = await check({
      document: { openapi: '3.0.3', info: { title: 'x' }, paths: { '/a': { get: {} } } },
      base_url: server.url,
    });
    expect(invalid).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(invalid.error_message).toMatch(
      /^the OpenAPI document the inline document is not valid: /,
    );

    const swagger = await check({ document: { swagger: '2.0', info: {}, paths: {} } });
    expect(swagger.error_message).toBe(
      'the inline document is not an OpenAPI 3.0 or 3.1 document (its version is "2.0")',
    );

    const unknown = await check({
      document: petStore(`${server.url}/v1`),
      operations: [{ method: 'DELETE', path: '/pets' }],
    });
    expect(unknown).toMatchObject({
      status: 'error',
      error_message:
        'DELETE /pets is not in the document; it has: GET /pets, POST /pets, GET /pets/{id}, GET /health',
    });
    const badParam = await check({
      document: petStore(`${server.url}/v1`),
      operations: [{ method: 'GET', path: '/pets/{id}', params: { petId: 1 } }],
    });
    expect(badParam.error_message).toBe(
      'GET /pets/{id} has no parameter petId (it has: id, X-Trace)',
    );
    const missing = await check({
      document: petStore(`${server.url}/v1`),
      operations: [{ method: 'GET', path: '/pets/{id}' }],
    });
    expect(missing.error_message).toBe('GET /pets/{id} needs a value for path parameter id');
  });

  it('reports an unreachable API or document as a network error', async () => {
    const port = await closedPort();
    const api = await check({ document: petStore(`http://127.0.0.1:${port}`) });
    expect(api).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(api.error_message).toContain(`ECONNREFUSED`);
    const document = await check({ document: `http://127.0.0.1:${port}/openapi.json` });
    expect(document).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(document.error_message).toMatch(
      new RegExp(
        `^cannot load the OpenAPI document from http://127\\.0\\.0\\.1:${port}/openapi\\.json: `,
      ),
    );
  });

  it('rejects bad params, naming each field', async () => {
    const outcome = await check({
      document: '',
      base_url: 'ftp://example.com',
      operations: [{ method: 'FETCH', path: 'pets', expected_status: 99 }],
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', steps: [] });
    expect(outcome.error_message).toMatch(/^invalid params for skill "api-contract": /);
    for (const expected of [
      'document: ',
      'base_url: must be an http or https URL',
      'operations[0].method: must be an HTTP method the document can describe',
      'operations[0].path: must be a path of the document, starting with /',
      'operations[0].expected_status: ',
    ])
      expect(outcome.error_message).toContain(expected);
  });
});
