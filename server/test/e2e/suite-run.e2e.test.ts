import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/closed-port.js';
import { json, startFixtureServer } from '../support/fixture-server.js';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/**
 * Drives WebGuard as a user does: `webguard start` as a child process on the embedded database,
 * then plain HTTP calls, as with curl.
 */
describe('webguard start → REST → BullMQ → engine → database', () => {
  let server: ChildProcess;
  let home: string;
  let base: string;
  let output = '';
  let authorization = '';
  let fixture: Awaited<ReturnType<typeof startFixtureServer>>;

  beforeAll(async () => {
    fixture = await startFixtureServer({
      '/health': json(200, { status: 'up', version: '1.2.3' }),
      '/slow-ok': (_request, response) => {
        setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain' }).end('fine'), 30);
      },
      '/teapot': json(418, { error: "I'm a teapot" }),
    });
    home = mkdtempSync(join(tmpdir(), 'wg-e2e-'));
    const port = await closedPort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [CLI, 'start'], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        PORT: String(port),
        WEBGUARD_HOME: home,
        REDIS_URL: TEST_REDIS_URL,
        WEBGUARD_QUEUE_PREFIX: uniqueQueuePrefix(),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      async () =>
        output.includes('is running at') ? true : server.exitCode !== null ? true : undefined,
      {
        what: 'webguard start to print its URL',
        timeoutMs: 90_000,
      },
    );
    if (server.exitCode !== null) throw new Error(`webguard start exited early:\n${output}`);
    // A first start with no WEBGUARD_ADMIN_PASSWORD prints a generated one, once.
    const password = /with the password\s+(\S+)/.exec(output)?.[1];
    if (!password) throw new Error(`no generated admin password printed:\n${output}`);
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@webguard.local', password }),
    });
    expect(login.status).toBe(200);
    authorization = `Bearer ${((await login.json()) as { access_token: string }).access_token}`;
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await fixture?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers:
        body === undefined
          ? { authorization }
          : { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  it('prints where it listens', () => {
    expect(output).toContain(`is running at ${base}`);
  });

  it('runs a suite of three http-check cases: two pass, one fails on status', async () => {
    const suite = await call('POST', '/api/v1/suites', {
      name: 'e2e-smoke',
      description: 'three checks',
    });
    expect(suite.status).toBe(201);
    const cases = [
      {
        name: 'health',
        skill_name: 'http-check',
        params: { url: `${fixture.url}/health`, assertions: [{ path: '$.status', equals: 'up' }] },
      },
      {
        name: 'slow-ok',
        skill_name: 'http-check',
        params: { url: `${fixture.url}/slow-ok`, max_latency_ms: 5000 },
      },
      {
        name: 'teapot',
        skill_name: 'http-check',
        params: { url: `${fixture.url}/teapot`, expected_status: [200] },
      },
    ];
    for (const testCase of cases) {
      expect((await call('POST', `/api/v1/suites/${suite.body.id}/cases`, testCase)).status).toBe(
        201,
      );
    }

    const trigger = await call('POST', '/api/v1/executions', {
      suite_id: suite.body.id,
      triggered_by: 'manual',
    });
    expect(trigger.status).toBe(202);
    const id = trigger.body.execution_id as number;

    const execution = await waitFor(
      async () => {
        const { body } = await call('GET', `/api/v1/executions/${id}`);
        return body.completed_at ? body : undefined;
      },
      { what: 'the execution to finish' },
    );
    expect(execution).toMatchObject({
      id,
      status: 'failed',
      total_tests: 3,
      passed_tests: 2,
      failed_tests: 1,
      skipped_tests: 0,
      triggered_by: 'manual',
    });
    expect(execution.execution_time_ms).toBeGreaterThanOrEqual(0);
    expect(new Date(execution.completed_at).getTime()).toBeGreaterThanOrEqual(
      new Date(execution.started_at).getTime(),
    );

    expect(execution.results).toHaveLength(3);
    const byName = Object.fromEntries(
      execution.results.map((result: { test_name: string }) => [result.test_name, result]),
    );
    for (const name of ['health', 'slow-ok']) {
      expect(byName[name]).toMatchObject({
        status: 'passed',
        error_type: null,
        error_message: null,
        retry_count: 0,
      });
    }
    expect(byName.teapot).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(byName.teapot.error_message).toContain('418');
    for (const result of execution.results) {
      expect(result.execution_time_ms).toBeGreaterThanOrEqual(0);
      expect(result.started_at).not.toBeNull();
      expect(result.steps.length).toBeGreaterThan(0);
      expect(
        result.metrics.find((metric: { name: string }) => metric.name === 'response_time')?.unit,
      ).toBe('ms');
    }
    expect(byName['slow-ok'].execution_time_ms).toBeGreaterThanOrEqual(30);

    const ready = await call('GET', '/readyz');
    expect(ready.body.checks.database.ok).toBe(true);
  });
});
