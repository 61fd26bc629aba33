import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import apiFlow from './skill.js';

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

/** A tiny users API; `forgetful` ignores updates, the bug a flow should catch. */
async function startUsersApi(forgetful: boolean): Promise<{ url: string; server: Server }> {
  const users = new Map<number, Record<string, unknown>>();
  let nextId = 41;
  const server = createServer((request, response) => {
    void (async () => {
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) =>
        response
          .writeHead(status, { 'content-type': 'application/json', ...headers })
          .end(body === undefined ? undefined : JSON.stringify(body));
      if (request.headers['authorization'] !== 'Bearer s3cret') return send(401, { error: 'who?' });
      const match = /^\/users(?:\/(\d+))?$/.exec(request.url ?? '');
      if (!match) return send(404, { error: 'no route' });
      const id = match[1] === undefined ? undefined : Number(match[1]);
      if (request.method === 'POST' && id === undefined) {
        const user = { ...(await readJson(request)), id: nextId++ };
        users.set(user.id, user);
        return send(201, user, { location: `/users/${user.id}` });
      }
      const user = id === undefined ? undefined : users.get(id);
      if (!user || id === undefined) return send(404, { error: 'no such user' });
      if (request.method === 'GET') return send(200, user);
      if (request.method === 'PUT') {
        const changes = await readJson(request);
        if (!forgetful) users.set(id, { ...user, ...changes, id });
        return send(200, users.get(id));
      }
      if (request.method === 'DELETE') {
        users.delete(id);
        return send(204);
      }
      send(405, { error: 'method not allowed' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const crud = [
  {
    name: 'create',
    method: 'POST',
    url: '{{base_url}}/users',
    headers: { authorization: 'Bearer {{token}}' },
    json: { name: 'Ada', team: '{{team}}' },
    expected_status: 201,
    captures: [
      { name: 'user_id', json_path: '$.id' },
      { name: 'location', header: 'Location' },
    ],
  },
  {
    name: 'read',
    url: '{{base_url}}{{location}}',
    headers: { authorization: 'Bearer {{token}}' },
    assertions: [
      { path: '$.name', equals: 'Ada' },
      { path: '$.team', equals: 7 },
    ],
  },
  {
    name: 'update',
    method: 'PUT',
    url: '{{base_url}}/users/{{user_id}}',
    headers: { authorization: 'Bearer {{token}}' },
    body: '{"name":"Ada L.","ref":"user-{{user_id}}"}',
  },
  {
    name: 'read again',
    url: '{{base_url}}/users/{{user_id}}',
    headers: { authorization: 'Bearer {{token}}' },
    assertions: [
      { path: '$.name', equals: 'Ada L.' },
      { path: '$.ref', matches: '^user-\\d+$' },
    ],
  },
  {
    name: 'delete',
    method: 'DELETE',
    url: '{{base_url}}/users/{{user_id}}',
    headers: { authorization: 'Bearer {{token}}' },
    expected_status: 204,
  },
  {
    name: 'gone',
    url: '{{base_url}}/users/{{user_id}}',
    headers: { authorization: 'Bearer {{token}}' },
    expected_status: 404,
  },
];

describe('api-flow', () => {
  let good: Awaited<ReturnType<typeof startUsersApi>>;
  let forgetful: Awaited<ReturnType<typeof startUsersApi>>;

  beforeAll(async () => {
    good = await startUsersApi(false);
    forgetful = await startUsersApi(true);
  });
  afterAll(() => {
    good.server.close();
    forgetful.server.close();
  });

  const flow = async (params: Record<string, unknown>) =>
    CaseOutcome.parse(
      await runCase({
        skill: apiFlow,
        params,
        caseName: 'flow',
        executionId: null,
        timeoutMs: 10_000,
      }),
    );

  it('runs create → read → update → delete, reusing captured values', async () => {
    const outcome = await flow({
      variables: { base_url: good.url, token: 's3cret', team: 7 },
      steps: crud,
    });

    expect(outcome).toMatchObject({ status: 'passed', error_message: null });
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['create', 'passed'],
      ['read', 'passed'],
      ['update', 'passed'],
      ['read again', 'passed'],
      ['delete', 'passed'],
      ['gone', 'passed'],
    ]);
    expect(outcome.outputs['captured']).toEqual({ user_id: 41, location: '/users/41' });
    expect(outcome.outputs['steps']).toEqual([
      { step: 1, name: 'create', status: 201, response_time_ms: expect.any(Number) },
      { step: 2, name: 'read', status: 200, response_time_ms: expect.any(Number) },
      { step: 3, name: 'update', status: 200, response_time_ms: expect.any(Number) },
      { step: 4, name: 'read again', status: 200, response_time_ms: expect.any(Number) },
      { step: 5, name: 'delete', status: 204, response_time_ms: expect.any(Number) },
      { step: 6, name: 'gone', status: 404, response_time_ms: expect.any(Number) },
    ]);
    expect(outcome.metrics.map((metric) => metric.name)).toEqual([
      'response_time create',
      'response_time read',
      'response_time update',
      'response_time read again',
      'response_time delete',
      'response_time gone',
      'requests',
      'total_response_time',
    ]);
  });

  it('stops at the first step whose check fails, naming the step and what it found', async () => {
    const outcome = await flow({
      variables: { base_url: forgetful.url, token: 's3cret', team: 7 },
      steps: crud,
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: `$.name was expected to equal "Ada L." in the response of GET ${forgetful.url}/users/41, got "Ada"`,
    });
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['create', 'passed'],
      ['read', 'passed'],
      ['update', 'passed'],
      ['read again', 'failed'],
    ]);
  });

  it('fails on an unexpected status and on a capture that finds nothing', async () => {
    const unauthorized = await flow({
      variables: { base_url: good.url },
      steps: [{ name: 'list', url: '{{base_url}}/users/1' }],
    });
    expect(unauthorized.error_message).toBe(
      `step 1 (list): expected status 200-299, got 401 from GET ${good.url}/users/1`,
    );
    const capture = await flow({
      steps: [
        {
          method: 'POST',
          url: `${good.url}/users`,
          headers: { authorization: 'Bearer s3cret' },
          json: {},
          expected_status: 201,
          captures: [{ name: 'token', json_path: '$.token' }],
        },
      ],
    });
    expect(capture).toMatchObject({
      status: 'failed',
      error_message: `capture token: $.token matched nothing in the response of POST ${good.url}/users`,
    });
    expect(capture.steps).toEqual([
      expect.objectContaining({ name: `POST ${good.url}/users`, status: 'failed' }),
    ]);
  });

  it('rejects bad params, naming each field, unknown placeholders included', async () => {
    const outcome = await flow({
      variables: { base_url: good.url },
      steps: [
        { url: '{{base_url}}/users', captures: [{ name: 'id', json_path: '$.id', header: 'x' }] },
        { url: '{{base_url}}/users/{{idd}}', method: 'GET', json: { a: 1 } },
        { url: 'ftp://x', headers: { 'x-user': '{{who}}' }, expected_status: 'ok' },
      ],
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', steps: [] });
    expect(outcome.error_message).toMatch(/^invalid params for skill "api-flow": /);
    for (const expected of [
      'steps[0].captures[0].json_path: give either json_path or header',
      'steps[1].method: GET and HEAD requests cannot have a body',
      'steps[2].url: must be an http(s) URL or start with a {{placeholder}}',
      'steps[2].expected_status: ',
    ])
      expect(outcome.error_message).toContain(expected);

    const placeholders = await flow({
      variables: { base_url: good.url },
      steps: [
        { url: '{{base_url}}/users', captures: [{ name: 'id', json_path: '$.id' }] },
        { url: '{{base_url}}/users/{{idd}}', headers: { 'x-user': '{{ who }}' } },
      ],
    });
    expect(placeholders.error_message).toContain(
      'steps[1].url: {{idd}} is neither in variables nor captured by an earlier step',
    );
    expect(placeholders.error_message).toContain(
      'steps[1].headers: {{who}} is neither in variables nor captured by an earlier step',
    );
  });
});
