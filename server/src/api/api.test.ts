import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureServer, json } from '../../test/support/fixture-server.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.js';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../../test/support/redis.js';
import { signInAsAdmin, TEST_ADMIN } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { openArtifactStore } from '../artifacts/index.js';
import { loadConfig } from '../config.js';
import { artifacts, testExecutions, testResults } from '../db/schema.js';
import { createLogger } from '../runtime/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';
import type { InjectOptions } from 'fastify';
import type { WebGuardApp } from './app.js';

let database: TestDatabase;
let home: string;
let runtime: Runtime;
let app: WebGuardApp;
let authorization: string;
let fixture: Awaited<ReturnType<typeof startFixtureServer>>;

beforeAll(async () => {
  database = await createTestDatabase();
  home = mkdtempSync(join(tmpdir(), 'wg-api-'));
  fixture = await startFixtureServer({
    '/ok': json(200, { data: { items: [{ id: 7 }] } }),
    '/broken': json(503, { error: 'down' }),
  });
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    WEBGUARD_HOME: home,
    WEBGUARD_QUEUE_PREFIX: uniqueQueuePrefix(),
    WEBGUARD_BODY_LIMIT: String(64 * 1024),
    LOG_LEVEL: 'silent',
    WEBGUARD_ADMIN_EMAIL: TEST_ADMIN.email,
    WEBGUARD_ADMIN_PASSWORD: TEST_ADMIN.password,
  });
  runtime = await startRuntime(
    config,
    { api: true, workers: ['executions', 'api'], listen: false },
    createLogger(config, 'test'),
  );
  app = runtime.app!;
  authorization = `Bearer ${await signInAsAdmin(app)}`;
});

/** Calls the API as the administrator. */
const inject = (options: InjectOptions | string) => {
  const request = typeof options === 'string' ? { url: options } : options;
  return app.inject({ ...request, headers: { ...request.headers, authorization } });
};

afterAll(async () => {
  await runtime?.close();
  await fixture?.close();
  await database?.drop();
  rmSync(home, { recursive: true, force: true });
});

const post = (url: string, payload: unknown) =>
  inject({ method: 'POST', url, payload: payload as object });

async function countRows(table: string): Promise<number> {
  const result = await runtime.database.db.execute(
    sql.raw(`SELECT count(*)::int AS n FROM ${table}`),
  );
  return (result as { rows: { n: number }[] }).rows[0]!.n;
}

describe('health', () => {
  it('answers liveness and readiness with each dependency checked', async () => {
    expect((await inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ok',
      checks: { database: { ok: true }, redis: { ok: true } },
    });
  });

  it('serves the OpenAPI document with every route', async () => {
    const document = (await inject('/docs/json')).json();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/suites',
        '/api/v1/suites/{id}',
        '/api/v1/suites/{suiteId}/cases',
        '/api/v1/executions',
        '/api/v1/executions/trigger',
        '/api/v1/executions/{id}',
        '/api/v1/skills/{name}',
      ]),
    );
    expect((await inject('/docs')).statusCode).toBeLessThan(400);
  });
});

describe('suites', () => {
  it('creates, reads, pages, updates and deletes', async () => {
    const created = await post('/api/v1/suites', { name: 'crud', description: 'first' });
    expect(created.statusCode).toBe(201);
    const suite = created.json();
    expect(suite).toMatchObject({
      name: 'crud',
      enabled: true,
      max_concurrent_tests: 5,
      timeout_minutes: 60,
    });

    await post('/api/v1/suites', { name: 'crud-2' });
    const page = await inject('/api/v1/suites?limit=1&offset=0&name=crud');
    expect(page.json()).toMatchObject({ total: 2, limit: 1, offset: 0, items: [{ name: 'crud' }] });

    const patched = await inject({
      method: 'PATCH',
      url: `/api/v1/suites/${suite.id}`,
      payload: { enabled: false },
    });
    expect(patched.json()).toMatchObject({ id: suite.id, enabled: false, description: 'first' });

    // A run of the suite with a screenshot: deleting the suite deletes the file too.
    const store = await openArtifactStore(runtime.config.artifacts);
    const db = runtime.database.db;
    const [execution] = await db.insert(testExecutions).values({ suiteId: suite.id }).returning();
    const [result] = await db
      .insert(testResults)
      .values({ executionId: execution!.id, testName: 'shot', status: 'failed' })
      .returning();
    const key = `runs/${execution!.id}/shot.png`;
    await store.put(key, { body: Buffer.from('png') }, 'image/png');
    await db.insert(artifacts).values({
      resultId: result!.id,
      kind: 'screenshot',
      name: 'shot.png',
      contentType: 'image/png',
      sizeBytes: 3,
      storageKey: key,
    });

    expect((await inject({ method: 'DELETE', url: `/api/v1/suites/${suite.id}` })).statusCode).toBe(
      204,
    );
    await expect(store.get(key)).rejects.toThrow(/not in the store/);
    const gone = await inject(`/api/v1/suites/${suite.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({
      error: { code: 'NOT_FOUND', message: `suite ${suite.id} does not exist` },
    });
  });

  it('rejects a duplicate name with 409', async () => {
    await post('/api/v1/suites', { name: 'dup' });
    const again = await post('/api/v1/suites', { name: 'dup' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toEqual({
      code: 'CONFLICT',
      message: 'a suite named "dup" already exists in this project',
    });
  });

  it('names the bad field of an invalid body and writes nothing', async () => {
    const before = await countRows('test_suites');
    const response = await post('/api/v1/suites', {
      name: '',
      max_concurrent_tests: 0,
      surprise: true,
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['name', 'max_concurrent_tests']),
    );
    expect(error.message).toContain('max_concurrent_tests');
    expect(error.message).toContain('surprise');
    expect(await countRows('test_suites')).toBe(before);
  });

  it('rejects malformed JSON, wrong content types and oversized bodies', async () => {
    const malformed = await inject({
      method: 'POST',
      url: '/api/v1/suites',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "x",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('INVALID_JSON');

    const text = await inject({
      method: 'POST',
      url: '/api/v1/suites',
      headers: { 'content-type': 'text/plain' },
      payload: 'name=x',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const before = await countRows('test_suites');
    const huge = await post('/api/v1/suites', { name: 'huge', description: 'x'.repeat(70 * 1024) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await countRows('test_suites')).toBe(before);
  });

  it('validates path params and query strings', async () => {
    const badId = await inject('/api/v1/suites/abc');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.details[0].path).toBe('params.id');
    const badLimit = await inject('/api/v1/suites?limit=5000');
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().error.details[0].path).toBe('query.limit');
  });
});

describe('cases', () => {
  let suiteId: number;
  beforeAll(async () => {
    suiteId = (await post('/api/v1/suites', { name: 'case-suite' })).json().id;
  });

  it('validates the skill and its params when a case is written', async () => {
    const ok = await post(`/api/v1/suites/${suiteId}/cases`, {
      name: 'home',
      skill_name: 'http-check',
      params: { url: `${fixture.url}/ok` },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({
      suite_id: suiteId,
      name: 'home',
      skill_name: 'http-check',
      timeout_seconds: 300,
    });

    const unknown = await post(`/api/v1/suites/${suiteId}/cases`, {
      name: 'x',
      skill_name: 'no-such-skill',
      params: {},
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error).toMatchObject({ code: 'UNKNOWN_SKILL' });
    expect(unknown.json().error.message).toContain('http-check');

    const badParams = await post(`/api/v1/suites/${suiteId}/cases`, {
      name: 'y',
      skill_name: 'http-check',
      params: { url: 'not a url' },
    });
    expect(badParams.statusCode).toBe(400);
    expect(badParams.json().error.code).toBe('INVALID_SKILL_PARAMS');
    expect(badParams.json().error.details[0].path).toBe('params.url');

    const list = await inject(`/api/v1/suites/${suiteId}/cases`);
    expect(list.json().items.map((c: { name: string }) => c.name)).toEqual(['home']);
  });

  it('re-validates params on update and 404s across suites', async () => {
    const created = (
      await post(`/api/v1/suites/${suiteId}/cases`, {
        name: 'upd',
        skill_name: 'http-check',
        params: { url: `${fixture.url}/ok` },
      })
    ).json();
    const bad = await inject({
      method: 'PATCH',
      url: `/api/v1/suites/${suiteId}/cases/${created.id}`,
      payload: { params: { url: 42 } },
    });
    expect(bad.statusCode).toBe(400);
    expect((await inject(`/api/v1/suites/${suiteId}/cases/${created.id}`)).json().params.url).toBe(
      `${fixture.url}/ok`,
    );
    const good = await inject({
      method: 'PATCH',
      url: `/api/v1/suites/${suiteId}/cases/${created.id}`,
      payload: { priority: 3 },
    });
    expect(good.json().priority).toBe(3);
    expect((await inject(`/api/v1/suites/${suiteId + 999}/cases/${created.id}`)).statusCode).toBe(
      404,
    );
    expect((await inject(`/api/v1/suites/${suiteId + 999}/cases`)).statusCode).toBe(404);
  });
});

describe('skills', () => {
  it('lists installed skills and publishes their params schema', async () => {
    const list = (await inject('/api/v1/skills')).json();
    expect(list.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'http-check', category: 'api' })]),
    );
    const skill = (await inject('/api/v1/skills/http-check')).json();
    expect(skill.params_schema.type).toBe('object');
    expect(skill.params_schema.properties).toHaveProperty('url');
    expect((await inject('/api/v1/skills/nope')).statusCode).toBe(404);
  });
});

describe('executions', () => {
  it('runs a suite end to end and records every result', async () => {
    const suite = (await post('/api/v1/suites', { name: 'run-me' })).json();
    await post(`/api/v1/suites/${suite.id}/cases`, {
      name: 'ok',
      skill_name: 'http-check',
      params: { url: `${fixture.url}/ok` },
    });
    await post(`/api/v1/suites/${suite.id}/cases`, {
      name: 'broken',
      skill_name: 'http-check',
      params: { url: `${fixture.url}/broken`, expected_status: 200 },
    });

    const triggered = await post('/api/v1/executions', {
      suite_name: 'run-me',
      triggered_by: 'ci',
      ci_commit_sha: 'deadbeef',
      ci_branch: 'main',
    });
    expect(triggered.statusCode).toBe(202);
    expect(triggered.json()).toMatchObject({ total_tests: 2 });
    expect(['queued', 'running']).toContain(triggered.json().status);
    const id: number = triggered.json().execution_id;

    const execution = await waitFor(
      async () => {
        const body = (await inject(`/api/v1/executions/${id}`)).json();
        return body.completed_at ? body : undefined;
      },
      { what: `execution ${id} to finish` },
    );
    expect(execution).toMatchObject({
      status: 'failed',
      total_tests: 2,
      passed_tests: 1,
      failed_tests: 1,
      triggered_by: 'ci',
      ci_commit_sha: 'deadbeef',
      ci_branch: 'main',
      suite_name: 'run-me',
    });
    const byName = Object.fromEntries(
      execution.results.map((r: { test_name: string }) => [r.test_name, r]),
    );
    expect(byName.ok).toMatchObject({
      status: 'passed',
      error_type: null,
      skill_name: 'http-check',
    });
    expect(byName.broken).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(byName.broken.error_message).toContain('503');
    expect(byName.ok.metrics.map((m: { name: string }) => m.name)).toContain('response_time');

    const listed = (await inject(`/api/v1/executions?suite_id=${suite.id}&status=failed`)).json();
    expect(listed.items.map((e: { id: number }) => e.id)).toEqual([id]);
  });

  it('accepts the design alias and rejects unknown, disabled and empty suites without writing', async () => {
    const before = await countRows('test_executions');
    const unknown = await post('/api/v1/executions/trigger', { suite_id: 987_654 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toBe('suite 987654 does not exist');

    const empty = (await post('/api/v1/suites', { name: 'empty' })).json();
    const emptyRun = await post('/api/v1/executions/trigger', { suite_id: empty.id });
    expect(emptyRun.statusCode).toBe(422);
    expect(emptyRun.json().error.code).toBe('SUITE_EMPTY');

    const disabled = (await post('/api/v1/suites', { name: 'off', enabled: false })).json();
    expect((await post('/api/v1/executions', { suite_id: disabled.id })).statusCode).toBe(409);

    const both = await post('/api/v1/executions', { suite_id: 1, suite_name: 'x' });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.message).toContain('exactly one of suite_id or suite_name');
    expect(await countRows('test_executions')).toBe(before);
    expect((await inject('/api/v1/executions/999999')).statusCode).toBe(404);
  });
});
