import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionWithResults } from '@webguard/shared';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { normalizeError } from './failure-groups.js';

/** Quality gates, quarantine and failure grouping on real runs of the fixture skills. */
let t: TestRuntime;
let suiteId: number;

async function runToEnd(): Promise<ExecutionWithResults> {
  const trigger = await t.inject({
    method: 'POST',
    url: '/api/v1/executions',
    payload: { suite_id: suiteId },
  });
  expect(trigger.statusCode, trigger.body).toBe(202);
  const id = trigger.json<{ execution_id: number }>().execution_id;
  return waitFor(
    async () => {
      const execution = (await t.inject(`/api/v1/executions/${id}`)).json<ExecutionWithResults>();
      return execution.completed_at ? execution : undefined;
    },
    { what: `execution ${id} to end` },
  );
}

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: ['executions', 'api'] });
  const suite = await t.inject({
    method: 'POST',
    url: '/api/v1/suites',
    payload: {
      name: 'gated',
      retry_on_failure: false,
      quality_gate: { max_failures: 0, min_pass_rate: 100 },
    },
  });
  expect(suite.statusCode, suite.body).toBe(201);
  suiteId = suite.json<{ id: number }>().id;
  for (const testCase of [
    { name: 'ok', skill_name: 'echo' },
    { name: 'bad', skill_name: 'fail', params: { message: 'total was 3, expected 4' } },
    { name: 'worse', skill_name: 'fail', params: { message: 'total was 5, expected 4' } },
  ])
    await t.inject({ method: 'POST', url: `/api/v1/suites/${suiteId}/cases`, payload: testCase });
});

afterAll(async () => t?.stop());

describe('quality gates and quarantine', () => {
  it('judges the gate with each rule’s value, then lets quarantined cases run without failing', async () => {
    const failing = await runToEnd();
    expect(failing.status).toBe('failed');
    expect(failing.quality_gate).toMatchObject({
      passed: false,
      rules: [
        { rule: 'max_failures', limit: 0, value: 2, passed: false },
        { rule: 'min_pass_rate', limit: 100, value: 33.3333, passed: false },
      ],
      quarantined: [],
    });

    const until = new Date(Date.now() + 86_400_000).toISOString();
    const ids: number[] = [];
    for (const name of ['bad', 'worse']) {
      const created = await t.inject({
        method: 'POST',
        url: `/api/v1/suites/${suiteId}/quarantine`,
        payload: { case_name: name, reason: 'tracked in BUG-12', until },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({ created_by: 'admin@webguard.test' });
      ids.push(created.json<{ id: number }>().id);
    }
    const quarantined = await runToEnd();
    expect(quarantined.status).toBe('passed');
    expect(quarantined.failed_tests).toBe(2);
    expect(
      quarantined.results
        .filter((r) => r.quarantined)
        .map((r) => r.test_name)
        .sort(),
    ).toEqual(['bad', 'worse']);
    expect(quarantined.quality_gate).toMatchObject({
      passed: true,
      quarantined: ['bad', 'worse'],
    });

    // Lifted (as an expired one is), the case counts again.
    await t.inject({ method: 'DELETE', url: `/api/v1/suites/${suiteId}/quarantine/${ids[1]}` });
    const listed = (await t.inject(`/api/v1/suites/${suiteId}/quarantine`)).json<{
      items: { case_name: string }[];
    }>();
    expect(listed.items.map((q) => q.case_name)).toEqual(['bad']);
    expect((await runToEnd()).status).toBe('failed');
  });

  it('groups failures by their normalized message', async () => {
    expect(normalizeError('GET https://x.test/a?id=7 took 1234 ms, "abc" != "def"')).toBe(
      'GET <url> took <n> ms, <value> != <value>',
    );
    const groups = (await t.inject(`/api/v1/reports/failures?suite_id=${suiteId}`)).json<{
      items: { message: string; occurrences: number; cases: { test_name: string }[] }[];
    }>();
    expect(groups.items).toHaveLength(1);
    expect(groups.items[0]).toMatchObject({
      message: 'total was <n>, expected <n>',
      // Three runs, two failing cases each: quarantined failures are still failures.
      occurrences: 6,
    });
    expect(groups.items[0]!.cases.map((c) => c.test_name).sort()).toEqual(['bad', 'worse']);
  });
});
