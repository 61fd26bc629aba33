import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { testExecutions, testResults } from '../db/schema.js';

/** Trends, flaky ranking and run comparison, computed on a history seeded row by row. */
let t: TestRuntime;
let suiteId: number;
const runs: number[] = [];

const DAY = 86_400_000;
const midnight = new Date(new Date().toISOString().slice(0, 10)).getTime();
const dayString = (offset: number) => new Date(midnight + offset * DAY).toISOString().slice(0, 10);

type Outcome = 'passed' | 'failed' | 'flaky';

async function seed(
  at: number,
  status: 'passed' | 'failed' | 'cancelled',
  ms: number,
  cases: Record<string, Outcome>,
) {
  const when = new Date(at);
  const [row] = await t.runtime.database.db
    .insert(testExecutions)
    .values({
      suiteId,
      status,
      createdAt: when,
      startedAt: when,
      completedAt: new Date(at + ms),
      executionTimeMs: ms,
      ciBranch: 'main',
      totalTests: Object.keys(cases).length,
      triggeredBy: 'ci',
    })
    .returning({ id: testExecutions.id });
  const rows = Object.entries(cases);
  if (rows.length > 0)
    await t.runtime.database.db.insert(testResults).values(
      rows.map(([testName, outcome]) => ({
        executionId: row!.id,
        testName,
        skillName: 'echo',
        status: outcome === 'failed' ? 'failed' : 'passed',
        errorType: outcome === 'failed' ? 'assertion' : null,
        errorMessage: outcome === 'failed' ? `${testName} broke` : null,
        flaky: outcome === 'flaky',
        retryCount: outcome === 'flaky' ? 1 : 0,
        executionTimeMs: 10,
      })),
    );
  runs.push(row!.id);
}

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [] });
  suiteId = (
    await t.inject({ method: 'POST', url: '/api/v1/suites', payload: { name: 'history' } })
  ).json<{ id: number }>().id;
  // Two days ago: a pass and a failure; yesterday: a pass with a retried case; today: a failure.
  await seed(midnight - 2 * DAY + 9 * 3_600_000, 'passed', 1000, {
    stable: 'passed',
    flipper: 'passed',
    retrying: 'passed',
  });
  await seed(midnight - 2 * DAY + 10 * 3_600_000, 'failed', 3000, {
    stable: 'passed',
    flipper: 'failed',
    retrying: 'passed',
  });
  await seed(midnight - DAY + 9 * 3_600_000, 'passed', 2000, {
    stable: 'passed',
    flipper: 'passed',
    retrying: 'flaky',
  });
  await seed(midnight + 60_000, 'failed', 5000, {
    stable: 'failed',
    flipper: 'passed',
    retrying: 'passed',
    newcase: 'failed',
  });
  // A cancelled run says nothing about quality and stays out of the trends.
  await seed(midnight + 120_000, 'cancelled', 100, {});
});

afterAll(async () => t?.stop());

describe('reports', () => {
  it('computes daily pass rate, P50/P95 duration and counts', async () => {
    const trends = await t.inject(`/api/v1/reports/trends?suite_id=${suiteId}&days=7`);
    expect(trends.statusCode, trends.body).toBe(200);
    const body = trends.json();
    expect(body.points).toEqual([
      {
        day: dayString(-2),
        executions: 2,
        passed: 1,
        failed: 1,
        pass_rate: 50,
        p50_duration_ms: 2000,
        p95_duration_ms: 2900,
        cases: 6,
        flaky_cases: 0,
      },
      {
        day: dayString(-1),
        executions: 1,
        passed: 1,
        failed: 0,
        pass_rate: 100,
        p50_duration_ms: 2000,
        p95_duration_ms: 2000,
        cases: 3,
        flaky_cases: 1,
      },
      {
        day: dayString(0),
        executions: 1,
        passed: 0,
        failed: 1,
        pass_rate: 0,
        p50_duration_ms: 5000,
        p95_duration_ms: 5000,
        cases: 4,
        flaky_cases: 0,
      },
    ]);
    expect(body.totals).toMatchObject({
      executions: 4,
      passed: 2,
      pass_rate: 50,
      p50_duration_ms: 2500,
      p95_duration_ms: 4700,
    });
  });

  it('ranks flaky cases: flips on one branch, then passes after a retry', async () => {
    const flaky = (await t.inject(`/api/v1/reports/flaky?suite_id=${suiteId}`)).json<{
      items: { test_name: string; flips: number; retried_passes: number; flake_rate: number }[];
    }>();
    expect(
      flaky.items.map((item) => [item.test_name, item.flips, item.retried_passes, item.flake_rate]),
    ).toEqual([
      ['flipper', 2, 0, 0.5],
      ['retrying', 0, 1, 0.25],
      ['stable', 1, 0, 0.25],
    ]);
  });

  it('compares a run with the previous one on its branch', async () => {
    const today = (await t.inject(`/api/v1/executions/${runs[3]}/compare`)).json();
    expect(today).toMatchObject({
      previous_execution_id: runs[2],
      branch: 'main',
      newly_failing: ['newcase', 'stable'],
      fixed: [],
      still_failing: [],
      new_cases: ['newcase'],
    });
    const recovered = (await t.inject(`/api/v1/executions/${runs[2]}/compare`)).json();
    expect(recovered).toMatchObject({ previous_execution_id: runs[1], fixed: ['flipper'] });
  });

  it('serves statistics and a JUnit report of a stored run', async () => {
    const statistics = (await t.inject('/api/v1/reports/statistics')).json<{
      items: { suite_name: string; total_executions: number }[];
    }>();
    // The design's view counts every run completed in 30 days, cancelled ones too.
    expect(statistics.items.find((s) => s.suite_name === 'history')?.total_executions).toBe(5);
    const junit = await t.inject(`/api/v1/executions/${runs[3]}/report/junit`);
    expect(junit.statusCode).toBe(200);
    expect(junit.headers['content-type']).toMatch(/application\/xml/);
    expect(junit.body).toMatch(/^<\?xml/);
    expect(junit.body).toContain('stable broke');
  });
});
