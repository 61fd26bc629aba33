import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startRuntime, type Runtime, type RuntimeRoles } from '../../src/runtime/runtime.js';
import { WORKER_QUEUES } from '../../src/queues/job-catalog.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { TEST_REDIS_URL, uniqueQueuePrefix } from './redis.js';

/** Test-only skills (wait, echo, noop, fail, flaky, undoable, ...) for orchestration tests and benches. */
export const FIXTURE_SKILLS = fileURLToPath(new URL('../fixtures/skills', import.meta.url));

/** The administrator every test runtime (and every process a test spawns) starts with. */
export const TEST_ADMIN = { email: 'admin@webguard.test', password: 'test-admin-password' };

export interface TestRuntime {
  runtime: Runtime;
  config: Config;
  /** The environment the runtime was configured with, for child processes joining it. */
  env: Record<string, string>;
  database: TestDatabase;
  /**
   * Calls the API in-process as an administrator. Tests go through this (not `runtime.app`) so
   * that the credentials live in one place.
   */
  inject(options: InjectOptions | string): Promise<LightMyRequestResponse>;
  /** Headers an out-of-process client (fetch, Socket.IO, a browser) sends to act as an administrator. */
  authHeaders(): Record<string, string>;
  /** Creates a suite with these cases through the API; returns its id, throws on any refusal. */
  suiteWith(suite: object, cases: object[]): Promise<number>;
  /** Gives every case (up to 200) of a suite these params through the API; throws on any refusal. */
  setCaseParams(suiteId: number, params: object): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A whole WebGuard process in-process, on its own database, data folder and queue prefix,
 * with the fixture skills installed and fast retries.
 */
export async function startTestRuntime(
  overrides: Record<string, string> = {},
  roles: Partial<RuntimeRoles> = {},
): Promise<TestRuntime> {
  const database = await createTestDatabase();
  const home = mkdtempSync(join(tmpdir(), 'wg-rt-'));
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    WEBGUARD_HOME: home,
    WEBGUARD_QUEUE_PREFIX: uniqueQueuePrefix(),
    WEBGUARD_SKILLS_PATHS: FIXTURE_SKILLS,
    WEBGUARD_RETRY_BASE_MS: '50',
    WEBGUARD_SECRET_KEY: 'ab'.repeat(32),
    LOG_LEVEL: 'silent',
    WEBGUARD_ADMIN_EMAIL: TEST_ADMIN.email,
    WEBGUARD_ADMIN_PASSWORD: TEST_ADMIN.password,
    ...overrides,
  };
  const config = loadConfig(env);
  const runtime = await startRuntime(
    config,
    { api: true, workers: WORKER_QUEUES, listen: false, ...roles },
    createLogger(config, 'test'),
  );
  let accessToken: string | undefined;
  const testRuntime: TestRuntime = {
    runtime,
    config,
    env,
    database,
    inject(options) {
      const app = runtime.app;
      if (!app) throw new Error('this test runtime has no API role');
      const request = typeof options === 'string' ? { url: options } : options;
      return app.inject({
        ...request,
        headers: { ...request.headers, ...testRuntime.authHeaders() },
      });
    },
    authHeaders() {
      if (!accessToken) throw new Error('this test runtime has no API role to sign in to');
      return { authorization: `Bearer ${accessToken}` };
    },
    async suiteWith(suite, cases) {
      const created = await testRuntime.inject({
        method: 'POST',
        url: '/api/v1/suites',
        payload: suite,
      });
      if (created.statusCode !== 201) throw new Error(`suite refused: ${created.body}`);
      const id = created.json<{ id: number }>().id;
      for (const testCase of cases) {
        const response = await testRuntime.inject({
          method: 'POST',
          url: `/api/v1/suites/${id}/cases`,
          payload: testCase,
        });
        if (response.statusCode !== 201) throw new Error(`case refused: ${response.body}`);
      }
      return id;
    },
    async setCaseParams(suiteId, params) {
      const listed = await testRuntime.inject(`/api/v1/suites/${suiteId}/cases?limit=200`);
      if (listed.statusCode !== 200) throw new Error(`cases not listed: ${listed.body}`);
      for (const { id } of listed.json<{ items: { id: number }[] }>().items) {
        const patched = await testRuntime.inject({
          method: 'PATCH',
          url: `/api/v1/suites/${suiteId}/cases/${id}`,
          payload: { params },
        });
        if (patched.statusCode !== 200) throw new Error(`case refused: ${patched.body}`);
      }
    },
    async stop() {
      await runtime.close();
      await database.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  if (runtime.app) accessToken = await signInAsAdmin(runtime.app);
  return testRuntime;
}

/** Signs in as TEST_ADMIN in-process; returns the access token. */
export async function signInAsAdmin(app: NonNullable<Runtime['app']>): Promise<string> {
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: TEST_ADMIN,
  });
  if (login.statusCode !== 200) throw new Error(`test admin login failed: ${login.body}`);
  return login.json<{ access_token: string }>().access_token;
}

/** Signs in as TEST_ADMIN over HTTP (a spawned `webguard`); returns the Authorization header. */
export async function signInOverHttp(baseUrl: string): Promise<Record<string, string>> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(TEST_ADMIN),
  });
  if (response.status !== 200) throw new Error(`test admin login failed: ${await response.text()}`);
  const { access_token } = (await response.json()) as { access_token: string };
  return { authorization: `Bearer ${access_token}` };
}
