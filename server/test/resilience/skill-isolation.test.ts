import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResult } from '@webguard/shared';
import { RoleProcesses } from '../support/processes.js';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Skills that misbehave, run by a worker as its own OS process: each is stopped at its limit
 * and reported as such, and the same worker process goes on with the next case.
 */
let t: TestRuntime;
const processes = new RoleProcesses(() => ({
  ...t.env,
  WEBGUARD_SKILL_MEMORY_MB: '128',
  LOG_LEVEL: 'warn',
}));

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [], scheduler: false });
});
afterAll(async () => {
  await processes.stopAll();
  await t?.stop();
});

const finished = (id: number) =>
  waitFor(
    async () => {
      const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
      return execution.completed_at ? execution : undefined;
    },
    { what: `execution ${id} to finish`, timeoutMs: 90_000 },
  );

describe('skill isolation in a worker process', () => {
  it('stops a skill that loops, hoards memory, exits or crashes, and goes on', async () => {
    const hog = (mode: string, timeout_seconds = 60) => ({
      name: mode,
      skill_name: 'hog',
      params: { mode },
      retries: 0,
      timeout_seconds,
    });
    const suiteId = await t.suiteWith({ name: 'hogs', max_concurrent_tests: 2 }, [
      hog('loop', 2),
      hog('memory'),
      hog('exit'),
      hog('throw-later'),
      { name: 'after', skill_name: 'echo', params: { message: 'still here' }, retries: 0 },
    ]);
    const worker = processes.spawn(['worker', '--queues', 'executions,api', '--concurrency', '2']);
    const trigger = async () =>
      (
        await t.inject({
          method: 'POST',
          url: '/api/v1/executions',
          payload: { suite_id: suiteId },
        })
      ).json().execution_id as number;

    const id = await trigger();
    const execution = await finished(id);
    expect(execution).toMatchObject({ total_tests: 5, passed_tests: 1 });
    const results: Record<string, TestResult> = Object.fromEntries(
      (execution.results as TestResult[]).map((result) => [result.test_name, result]),
    );
    const result = (name: string): TestResult => {
      const found = results[name];
      if (!found) throw new Error(`no result for case ${name}`);
      return found;
    };
    expect(result('loop')).toMatchObject({ status: 'timeout', error_type: 'timeout' });
    expect(result('loop').error_message).toMatch(/kept its thread busy/);
    expect(result('memory')).toMatchObject({ status: 'error', error_type: 'system' });
    expect(result('memory').error_message).toMatch(/ran out of memory.*128 MB/);
    expect(result('exit').error_message).toMatch(/process\.exit\(7\)/);
    expect(result('throw-later').error_message).toMatch(/thrown from a timer/);
    expect(result('after')).toMatchObject({ status: 'passed' });
    // What a stopped case recorded before its limit is kept.
    expect(result('loop').logs.map((entry) => entry.message)).toEqual(['about to loop']);

    // The same worker process, never restarted, runs the next run too.
    expect(worker.child.exitCode).toBeNull();
    expect(await finished(await trigger())).toMatchObject({ total_tests: 5, passed_tests: 1 });
    expect(worker.child.exitCode).toBeNull();
  }, 180_000);
});
