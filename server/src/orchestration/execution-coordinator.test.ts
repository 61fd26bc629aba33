import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startFixtureServer } from '../../test/support/fixture-server.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { LiveKeys } from '../live/keys.js';
import { readRunEvents } from '../live/run-event-reader.js';
import { EXECUTIONS_QUEUE, jobIds } from '../queues/job-catalog.js';

/**
 * Workflows end to end through the REST API, BullMQ and real workers: order and parallelism are
 * read back from the start and end times the results record.
 */
let t: TestRuntime;
let fixture: Awaited<ReturnType<typeof startFixtureServer>>;
const counters = new Map<string, number>();
const reports: { call: string; label: string; created?: string | null }[] = [];

beforeAll(async () => {
  fixture = await startFixtureServer({
    '/count': (request, response) => {
      const key = new URL(request.url ?? '/', 'http://x').searchParams.get('key') ?? '';
      counters.set(key, (counters.get(key) ?? 0) + 1);
      response.writeHead(200, { 'content-type': 'text/plain' }).end(String(counters.get(key)));
    },
    '/report': (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        reports.push(JSON.parse(body) as (typeof reports)[number]);
        json(200, { ok: true })(request, response);
      });
    },
  });
  t = await startTestRuntime({}, { scheduler: true });
});

afterAll(async () => {
  await t?.stop();
  await fixture?.close();
});

const api = () => t;
const post = async (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  api().inject({ method: 'POST', url, payload: payload as object, headers });

const suiteWith = (suite: object, cases: object[]) => t.suiteWith(suite, cases);

async function runToEnd(body: Record<string, unknown>) {
  const triggered = await post('/api/v1/executions', body);
  expect(triggered.statusCode, triggered.body).toBe(202);
  return finished(triggered.json().execution_id as number);
}

async function finished(id: number) {
  return waitFor(
    async () => {
      const execution = (await api().inject(`/api/v1/executions/${id}`)).json();
      return execution.completed_at ? execution : undefined;
    },
    { what: `execution ${id} to finish`, timeoutMs: 45_000 },
  );
}

type Result = { test_name: string; started_at: string; completed_at: string; status: string };
const byName = (results: Result[]) =>
  Object.fromEntries(results.map((r) => [r.test_name, r])) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads JSON
const time = (iso: string) => new Date(iso).getTime();

describe('workflow', () => {
  it('runs a DAG in order with at most max_concurrent_tests at once, outputs flowing downstream', async () => {
    const wait = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      skill_name: 'wait',
      params: { ms: 300 },
      ...extra,
    });
    const suiteId = await suiteWith({ name: 'dag', max_concurrent_tests: 2 }, [
      {
        name: 'login',
        skill_name: 'echo',
        params: { message: 'hi', outputs: { token: 'tok-123', user: { id: 7 } } },
      },
      wait('cart', { group: 'checks', depends_on: ['login'] }),
      wait('search', { group: 'checks', depends_on: ['login'] }),
      wait('profile', { group: 'checks', depends_on: ['login'] }),
      {
        name: 'use-token',
        skill_name: 'echo',
        params: {
          message: 'Bearer ${{ cases.login.outputs.token }}',
          outputs: { user: '${{ cases.login.outputs.user.id }}' },
        },
        depends_on: ['checks'],
      },
    ]);
    const execution = await runToEnd({ suite_id: suiteId });
    expect(execution).toMatchObject({ status: 'passed', passed_tests: 5 });
    const r = byName(execution.results);
    for (const check of ['cart', 'search', 'profile']) {
      expect(time(r[check].started_at)).toBeGreaterThanOrEqual(time(r.login.completed_at));
      expect(time(r['use-token'].started_at)).toBeGreaterThanOrEqual(time(r[check].completed_at));
    }
    // Never more than two checks running at the same moment.
    const checks = ['cart', 'search', 'profile'].map((n) => r[n]);
    for (const a of checks) {
      const overlapping = checks.filter(
        (b) =>
          time(b.started_at) < time(a.completed_at) && time(a.started_at) < time(b.completed_at),
      );
      expect(overlapping.length).toBeLessThanOrEqual(2);
    }
    expect(r['use-token'].outputs).toEqual({ message: 'Bearer tok-123', user: 7 });
  });

  it('fails a case whose reference cannot be resolved, naming it', async () => {
    const suiteId = await suiteWith({ name: 'bad-ref' }, [
      { name: 'a', skill_name: 'echo', params: { message: '${{ cases.nobody.outputs.x }}' } },
    ]);
    const execution = await runToEnd({ suite_id: suiteId });
    expect(execution.results[0]).toMatchObject({ status: 'error', error_type: 'system' });
    expect(execution.results[0].error_message).toContain('case "nobody" has not produced outputs');
  });

  it('fails a case whose skill was removed from the server, skips its dependents and runs the rest', async () => {
    const suiteId = await suiteWith({ name: 'skill-gone', max_concurrent_tests: 2 }, [
      { name: 'gone', skill_name: 'echo', params: { message: 'x' } },
      { name: 'after-gone', skill_name: 'echo', params: { message: 'y' }, depends_on: ['gone'] },
      { name: 'fine', skill_name: 'echo', params: { message: 'z' } },
    ]);
    // The skill was uninstalled after the case was saved.
    await t.runtime.database.db.execute(
      sql`UPDATE test_cases SET skill_name = 'uninstalled' WHERE suite_id = ${suiteId} AND name = 'gone'`,
    );
    const execution = await runToEnd({ suite_id: suiteId });
    expect(execution).toMatchObject({ status: 'error', passed_tests: 1, skipped_tests: 1 });
    const r = byName(execution.results);
    expect(r.gone).toMatchObject({ status: 'error', error_type: 'system' });
    expect(r.gone.error_message).toBe('unknown skill "uninstalled" on this server');
    expect(r['after-gone']).toMatchObject({ status: 'skipped' });
    expect(r.fine).toMatchObject({ status: 'passed' });
  });

  it('rejects cycles and unknown dependencies with a 400 naming them', async () => {
    const suiteId = await suiteWith({ name: 'cyclic' }, [
      { name: 'a', skill_name: 'echo', params: {} },
      { name: 'b', skill_name: 'echo', params: {}, depends_on: ['a'] },
    ]);
    const unknown = await post(`/api/v1/suites/${suiteId}/cases`, {
      name: 'c',
      skill_name: 'echo',
      depends_on: ['ghost'],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toContain(
      'depends_on "ghost" is not a case or group of this suite',
    );
    const cases = (await api().inject(`/api/v1/suites/${suiteId}/cases`)).json().items;
    const a = cases.find((c: { name: string }) => c.name === 'a');
    const cycle = await api().inject({
      method: 'PATCH',
      url: `/api/v1/suites/${suiteId}/cases/${a.id}`,
      payload: { depends_on: ['b'] },
    });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().error.message).toMatch(
      /dependency cycle: a → b → a|dependency cycle: b → a → b/,
    );
    const remove = await api().inject({
      method: 'DELETE',
      url: `/api/v1/suites/${suiteId}/cases/${a.id}`,
    });
    expect(remove.statusCode).toBe(409);
    expect(remove.json().error.message).toContain('is a dependency of b');
  });

  it('skips the rest after a failure with stop_on_error and compensates passed cases in reverse order', async () => {
    reports.length = 0;
    const report = `${fixture.url}/report`;
    const suiteId = await suiteWith(
      { name: 'saga', stop_on_error: true, max_concurrent_tests: 1 },
      [
        {
          name: 'create-user',
          skill_name: 'undoable',
          params: { report_url: report, label: 'user' },
          priority: 3,
        },
        {
          name: 'create-cart',
          skill_name: 'undoable',
          params: { report_url: report, label: 'cart' },
          priority: 2,
          depends_on: ['create-user'],
        },
        {
          name: 'checkout',
          skill_name: 'fail',
          params: { message: 'payment declined' },
          priority: 1,
          depends_on: ['create-cart'],
        },
        { name: 'later', skill_name: 'echo', params: {}, priority: 0 },
      ],
    );
    const execution = await runToEnd({ suite_id: suiteId });
    expect(execution.status).toBe('failed');
    const r = byName(execution.results);
    expect(r.checkout).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: 'payment declined',
    });
    expect(r.later.status).toBe('skipped');
    expect(r.later.error_message).toContain('stop_on_error');
    expect(reports.map((entry) => `${entry.call}:${entry.label}`)).toEqual([
      'run:user',
      'run:cart',
      'compensate:cart',
      'compensate:user',
    ]);
    expect(reports[2]).toMatchObject({ created: 'cart' });
    expect(r['create-user'].compensation).toMatchObject({ status: 'passed', error: null });
    expect(r['create-cart'].compensation).toMatchObject({ status: 'passed' });
  });

  it('skips dependents of a failed case and cancels the rest past max_failures', async () => {
    const suiteId = await suiteWith(
      { name: 'fail-fast', max_failures: 1, max_concurrent_tests: 1 },
      [
        { name: 'boom', skill_name: 'fail', params: {}, priority: 9 },
        { name: 'after-boom', skill_name: 'echo', params: {}, depends_on: ['boom'] },
        { name: 'independent', skill_name: 'echo', params: {} },
      ],
    );
    const execution = await runToEnd({ suite_id: suiteId });
    const r = byName(execution.results);
    expect(r.boom.status).toBe('failed');
    expect(r['after-boom'].status).toBe('skipped');
    expect(r.independent.status).toBe('skipped');
    expect(r.independent.error_message).toContain('max_failures is 1');
    expect(execution).toMatchObject({
      status: 'failed',
      total_tests: 3,
      failed_tests: 1,
      skipped_tests: 2,
    });
  });

  it('goes on past a failure one case at a time, skipping only what depends on it', async () => {
    const suiteId = await suiteWith({ name: 'keep-going', max_concurrent_tests: 1 }, [
      { name: 'boom', skill_name: 'fail', params: {}, priority: 9 },
      { name: 'first', skill_name: 'echo', params: {}, priority: 5 },
      { name: 'after-first', skill_name: 'echo', params: {}, depends_on: ['first'] },
      { name: 'after-boom', skill_name: 'echo', params: {}, depends_on: ['boom'] },
      { name: 'last', skill_name: 'echo', params: {} },
    ]);
    const execution = await runToEnd({ suite_id: suiteId });
    const r = byName(execution.results);
    expect(r.boom.status).toBe('failed');
    expect(r['after-boom'].status).toBe('skipped');
    expect(r['after-boom'].error_message).toContain('depends on "boom"');
    for (const name of ['first', 'after-first', 'last']) expect(r[name].status).toBe('passed');
    expect(execution).toMatchObject({
      status: 'failed',
      total_tests: 5,
      passed_tests: 3,
      failed_tests: 1,
      skipped_tests: 1,
    });
  });
});

describe('retries and timeouts', () => {
  it('retries a network failure with backoff and marks the pass flaky', async () => {
    const suiteId = await suiteWith({ name: 'flaky' }, [
      {
        name: 'wobbly',
        skill_name: 'flaky',
        params: { counter_url: `${fixture.url}/count?key=wobbly`, passes_on: 3 },
        retries: 3,
      },
    ]);
    const execution = await runToEnd({ suite_id: suiteId });
    expect(execution.status).toBe('passed');
    expect(execution.results[0]).toMatchObject({
      status: 'passed',
      retry_count: 2,
      flaky: true,
      outputs: { calls: 3 },
    });
  });

  it('does not retry a failed check, and gives up after the retries it has', async () => {
    const suiteId = await suiteWith({ name: 'no-retry' }, [
      { name: 'check', skill_name: 'fail', params: {}, retries: 3 },
      {
        name: 'down',
        skill_name: 'flaky',
        params: { counter_url: `${fixture.url}/count?key=down`, passes_on: 99 },
        retries: 1,
      },
    ]);
    const execution = await runToEnd({ suite_id: suiteId });
    const r = byName(execution.results);
    expect(r.check).toMatchObject({ status: 'failed', retry_count: 0, flaky: false });
    expect(r.down).toMatchObject({ status: 'failed', error_type: 'network', retry_count: 1 });
    expect(counters.get('down')).toBe(2);
  });

  it('ends a case at its timeout whether or not the skill listens to its signal', async () => {
    const suiteId = await suiteWith({ name: 'timeouts', retry_on_failure: false }, [
      { name: 'soft', skill_name: 'wait', params: { ms: 30_000 }, timeout_seconds: 1 },
      {
        name: 'hard',
        skill_name: 'wait',
        params: { ms: 30_000, ignore_signal: true },
        timeout_seconds: 1,
      },
    ]);
    const execution = await runToEnd({ suite_id: suiteId });
    for (const result of execution.results) {
      expect(result).toMatchObject({ status: 'timeout', error_type: 'timeout' });
      expect(result.execution_time_ms).toBeLessThan(15_000);
    }
  });

  it("ends the run as timeout at the suite's deadline, cancelling what remains", async () => {
    const suiteId = await suiteWith({ name: 'deadline', max_concurrent_tests: 1 }, [
      { name: 'long', skill_name: 'wait', params: { ms: 20_000 }, priority: 1 },
      { name: 'never', skill_name: 'echo', params: {} },
    ]);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    // The deadline comes while "long" runs (a case still queued would be cancelled unrun).
    await waitFor(async () => {
      const cases = (await api().inject(`/api/v1/executions/${id}/cases`)).json().items as {
        name: string;
        state: string;
      }[];
      return cases.some((c) => c.name === 'long' && c.state === 'running') ? true : undefined;
    });
    // Fire the real deadline job now instead of waiting the suite's minutes.
    const deadline = await t.runtime.queues.queue(EXECUTIONS_QUEUE).getJob(jobIds.deadline(id));
    await deadline!.promote();
    const execution = await finished(id);
    expect(execution.status).toBe('timeout');
    expect(execution.error_message).toContain('timeout of 60 minute(s)');
    await waitFor(async () => {
      const now = (await api().inject(`/api/v1/executions/${id}`)).json();
      return now.results.length === 2 ? now : undefined;
    });
    const r = byName((await api().inject(`/api/v1/executions/${id}`)).json().results);
    expect(r.never.status).toBe('skipped');
    expect(r.long.error_message).toBe('cancelled');
  });
});

describe('cancel, rerun and idempotency', () => {
  it('cancels a run: running cases are aborted, the rest skipped', async () => {
    const suiteId = await suiteWith({ name: 'cancel-me', max_concurrent_tests: 1 }, [
      { name: 'slow', skill_name: 'wait', params: { ms: 20_000 }, priority: 1 },
      { name: 'queued', skill_name: 'echo', params: {} },
    ]);
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    await waitFor(async () => {
      const execution = (await api().inject(`/api/v1/executions/${id}`)).json();
      return execution.status === 'running' ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelled = await post(`/api/v1/executions/${id}/cancel`, {});
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      error_message: 'cancelled on request',
    });
    const execution = await waitFor(async () => {
      const now = (await api().inject(`/api/v1/executions/${id}`)).json();
      return now.results.length === 2 ? now : undefined;
    });
    const r = byName(execution.results);
    expect(r.queued.status).toBe('skipped');
    expect(r.slow).toMatchObject({ status: 'error', error_message: 'cancelled' });
    expect(r.slow.execution_time_ms).toBeLessThan(15_000);
    expect((await post(`/api/v1/executions/${id}/cancel`, {})).json().status).toBe('cancelled');
  });

  it('reruns only what failed, linked to the first run', async () => {
    const suiteId = await suiteWith({ name: 'rerun' }, [
      { name: 'good', skill_name: 'echo', params: {} },
      { name: 'bad', skill_name: 'fail', params: {} },
      { name: 'off', skill_name: 'echo', params: {}, enabled: false },
    ]);
    const first = await runToEnd({ suite_id: suiteId });
    // A disabled case is not part of the run.
    expect(first.total_tests).toBe(2);
    expect(first.results.map((r: Result) => r.test_name).sort()).toEqual(['bad', 'good']);
    const rerun = await post(`/api/v1/executions/${first.id}/rerun?only=failed`, {});
    expect(rerun.statusCode).toBe(202);
    const second = await finished(rerun.json().execution_id as number);
    expect(second).toMatchObject({ rerun_of: first.id, triggered_by: 'rerun', total_tests: 1 });
    expect(second.results.map((r: Result) => r.test_name)).toEqual(['bad']);
  });

  it('returns the same execution for a repeated Idempotency-Key', async () => {
    const suiteId = await suiteWith({ name: 'idem' }, [
      { name: 'a', skill_name: 'echo', params: {} },
    ]);
    const first = await post(
      '/api/v1/executions',
      { suite_id: suiteId },
      { 'idempotency-key': 'build-42' },
    );
    const second = await post(
      '/api/v1/executions',
      { suite_id: suiteId },
      { 'idempotency-key': 'build-42' },
    );
    expect(second.statusCode).toBe(202);
    expect(second.json().execution_id).toBe(first.json().execution_id);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const other = await post(
      '/api/v1/executions',
      { suite_id: suiteId },
      { 'idempotency-key': 'build-43' },
    );
    expect(other.json().execution_id).not.toBe(first.json().execution_id);
  });
});

describe('quick cases sharing jobs', () => {
  const jobsOf = async (executionId: number) =>
    (
      (await t.runtime.database.db.execute(
        sql`SELECT name, job_id, state FROM execution_cases WHERE execution_id = ${executionId} ORDER BY id`,
      )) as unknown as { rows: { name: string; job_id: string; state: string }[] }
    ).rows;

  it('runs the quick cases of a suite that ran before in shared jobs, each recorded once', async () => {
    const suiteId = await suiteWith(
      { name: 'shared', max_concurrent_tests: 50 },
      Array.from({ length: 30 }, (_, i) => ({
        name: `quick-${i}`,
        skill_name: 'echo',
        params: { message: `m${i}`, outputs: { n: i } },
      })),
    );
    const first = await runToEnd({ suite_id: suiteId });
    expect(first).toMatchObject({ status: 'passed', passed_tests: 30 });
    // Never run before: a job each.
    const firstJobs = await jobsOf(first.id as number);
    expect(new Set(firstJobs.map((row) => row.job_id)).size).toBe(30);
    expect(firstJobs.every((row) => row.job_id.startsWith('case-'))).toBe(true);

    // A case added since has no history, so it still runs alone.
    const added = await post(`/api/v1/suites/${suiteId}/cases`, {
      name: 'new',
      skill_name: 'echo',
      params: { message: 'new' },
    });
    expect(added.statusCode, added.body).toBe(201);
    const second = await runToEnd({ suite_id: suiteId });
    expect(second).toMatchObject({ status: 'passed', passed_tests: 31, total_tests: 31 });
    const jobs = await jobsOf(second.id as number);
    const byJob = new Map<string, string[]>();
    for (const row of jobs.filter((r) => r.name !== 'new'))
      byJob.set(row.job_id, [...(byJob.get(row.job_id) ?? []), row.name]);
    // 30 quick cases over at least 10 jobs: 3 a job.
    expect([...byJob.values()].map((rows) => rows.length)).toEqual(Array<number>(10).fill(3));
    expect([...byJob.keys()].every((jobId) => jobId.startsWith('cases-'))).toBe(true);
    expect(jobs.find((row) => row.name === 'new')?.job_id).toMatch(/^case-/);
    // Each case recorded once, as its own attempt with its own outputs and times.
    const results = second.results as {
      test_name: string;
      outputs: { n?: number };
      started_at: string;
      completed_at: string;
    }[];
    expect(results).toHaveLength(31);
    expect(new Set(results.map((r) => r.test_name)).size).toBe(31);
    for (const result of results.filter((r) => r.test_name !== 'new')) {
      expect(result.outputs.n).toBe(Number(result.test_name.slice('quick-'.length)));
      expect(time(result.completed_at)).toBeGreaterThanOrEqual(time(result.started_at));
    }
  });

  it('does not run a case of a shared job that was cancelled while it waited its turn', async () => {
    const suiteId = await suiteWith(
      { name: 'shared-cancel', max_concurrent_tests: 50 },
      Array.from({ length: 20 }, (_, i) => ({
        name: `w${i}`,
        skill_name: 'wait',
        params: { ms: 1 },
      })),
    );
    await runToEnd({ suite_id: suiteId });
    // Slow from now on, but the history says quick: the cases share jobs of two.
    await t.setCaseParams(suiteId, { ms: 20_000 });
    const id = (await post('/api/v1/executions', { suite_id: suiteId })).json()
      .execution_id as number;
    // Each of the 10 jobs claims its two cases, runs the first, and the second waits its turn.
    // The first cases start once their jobs are taken back from the thread they queued on, as
    // near-instant work, and given threads of their own.
    const redis = t.runtime.redis.createConnection('test-events');
    try {
      await waitFor(
        async () => {
          const events = await readRunEvents(redis, new LiveKeys(t.config.queuePrefix), id, 1);
          const started = events.filter((event) => event.type === 'case.started');
          return started.length === 10 ? started : undefined;
        },
        { what: 'the first case of every shared job to start' },
      );
    } finally {
      redis.disconnect();
    }
    expect((await jobsOf(id)).filter((row) => row.state === 'running')).toHaveLength(20);
    expect((await post(`/api/v1/executions/${id}/cancel`, {})).statusCode).toBe(200);
    const execution = await waitFor(async () => {
      const now = (await api().inject(`/api/v1/executions/${id}`)).json();
      return now.results.length === 20 ? now : undefined;
    });
    expect(execution.status).toBe('cancelled');
    const statuses = (execution.results as { status: string; error_message: string }[]).map(
      (r) => `${r.status}: ${r.error_message}`,
    );
    expect(statuses.filter((s) => s === 'error: cancelled')).toHaveLength(10);
    expect(
      statuses.filter((s) => s === 'skipped: cancelled: its run was stopped before it started'),
    ).toHaveLength(10);
    expect(new Set((await jobsOf(id)).map((row) => row.job_id)).size).toBe(10);
  });
});

describe('environments and secrets', () => {
  it('reads variables and secrets from the chosen environment and never shows the secret', async () => {
    const secret = 'sk-live-9f8e7d6c5b4a';
    const env = await post('/api/v1/environments', {
      name: 'staging',
      variables: { BASE_URL: 'https://staging.example' },
      secrets: { API_KEY: secret },
    });
    expect(env.statusCode).toBe(201);
    expect(env.json()).toMatchObject({ name: 'staging', secret_names: ['API_KEY'] });
    expect(env.body).not.toContain(secret);

    const suiteId = await suiteWith({ name: 'secretive' }, [
      {
        name: 'call',
        skill_name: 'echo',
        params: {
          message: '${{ env.BASE_URL }} with ${{ secrets.API_KEY }}',
          outputs: { key: '${{ secrets.API_KEY }}' },
        },
      },
      {
        name: 'fails-loudly',
        skill_name: 'fail',
        params: { message: 'bad key ${{ secrets.API_KEY }}' },
      },
    ]);
    const execution = await runToEnd({ suite_id: suiteId, environment: 'staging' });
    expect(execution.environment).toBe('staging');
    const r = byName(execution.results);
    expect(r.call.outputs).toEqual({ message: 'https://staging.example with ***', key: '***' });
    expect(r.call.logs[0]).toMatchObject({
      message: 'https://staging.example with ***',
      data: { echoed: 'https://staging.example with ***' },
    });
    expect(r['fails-loudly'].error_message).toBe('bad key ***');
    expect(JSON.stringify(execution)).not.toContain(secret);
    const stored = await t.runtime.database.db.execute(
      (await import('drizzle-orm'))
        .sql`SELECT secrets::text AS s FROM environments WHERE name = 'staging'`,
    );
    expect(JSON.stringify(stored)).not.toContain(secret);

    const missing = await post('/api/v1/executions', { suite_id: suiteId, environment: 'prod' });
    expect(missing.statusCode).toBe(404);
  });
});

describe('schedules', () => {
  it('validates cron, lists the next runs and keeps a job scheduler in step with the suite', async () => {
    const bad = await post('/api/v1/suites', { name: 'bad-cron', schedule_cron: '61 * * * *' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ path: 'schedule_cron' });
    expect(bad.json().error.message).toContain('expected range 0-59');

    const created = await post('/api/v1/suites', {
      name: 'nightly',
      schedule_cron: '0 2 * * *',
      schedule_timezone: 'Europe/Berlin',
    });
    const id = created.json().id as number;
    const schedule = (await api().inject(`/api/v1/suites/${id}/schedule`)).json();
    expect(schedule).toMatchObject({
      active: true,
      timezone: 'Europe/Berlin',
      schedule_cron: '0 2 * * *',
    });
    expect(schedule.next_runs).toHaveLength(5);
    for (const run of schedule.next_runs) expect(new Date(run).getUTCHours()).toBeOneOf([0, 1]);

    const queue = t.runtime.queues.queue('schedules');
    const schedulerIds = async () =>
      (await queue.getJobSchedulers(0, -1)).map((s) => s.id ?? s.key);
    expect(await schedulerIds()).toContain(`suite-${id}`);
    await api().inject({
      method: 'PATCH',
      url: `/api/v1/suites/${id}`,
      payload: { schedule_cron: '*/5 * * * *' },
    });
    expect(
      (await queue.getJobSchedulers(0, -1)).find((s) => (s.id ?? s.key) === `suite-${id}`)?.pattern,
    ).toBe('*/5 * * * *');
    await api().inject({
      method: 'PATCH',
      url: `/api/v1/suites/${id}`,
      payload: { enabled: false },
    });
    expect(await schedulerIds()).not.toContain(`suite-${id}`);
    await api().inject({
      method: 'PATCH',
      url: `/api/v1/suites/${id}`,
      payload: { enabled: true },
    });
    expect(await schedulerIds()).toContain(`suite-${id}`);
    await api().inject({ method: 'DELETE', url: `/api/v1/suites/${id}` });
    expect(await schedulerIds()).not.toContain(`suite-${id}`);
  });

  it('starts one run for a cron tick whose job arrives twice', async () => {
    const id = await suiteWith({ name: 'tick-twice' }, [
      { name: 'ping', skill_name: 'echo', params: {} },
    ]);
    const queue = t.runtime.queues.queue('schedules');
    const tick = Date.UTC(2026, 0, 1, 2, 0, 0);
    for (const attempt of [1, 2])
      await queue.add(
        'scheduled-run',
        { suite_id: id },
        { jobId: `tick-${id}-${attempt}`, prevMillis: tick },
      );
    await waitFor(
      async () => {
        const states = await Promise.all(
          [1, 2].map((attempt) => queue.getJobState(`tick-${id}-${attempt}`)),
        );
        return states.every((state) => state === 'completed') || undefined;
      },
      { what: 'both tick jobs to complete' },
    );
    // Read only after both jobs are done: a list read earlier could predate the first run.
    const runs = (await api().inject(`/api/v1/executions?suite_id=${id}`)).json().items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ triggered_by: 'schedule' });
  });
});
