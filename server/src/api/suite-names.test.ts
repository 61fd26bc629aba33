import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../db/schema.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';

/** Suite and environment names are unique per project; a trigger by name looks in yours. */
let t: TestRuntime;
let billing: number;
const smoke: Record<'default' | 'billing', number> = { default: 0, billing: 0 };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const trigger = (payload: object, headers?: Record<string, string>) =>
  headers
    ? t.runtime.app!.inject({ method: 'POST', url: '/api/v1/executions', payload, headers })
    : t.inject({ method: 'POST', url: '/api/v1/executions', payload });
const suiteOf = async (executionId: number) =>
  (await t.inject(`/api/v1/executions/${executionId}`)).json<{ suite_id: number }>().suite_id;

async function create(url: string, payload: object): Promise<number> {
  const response = await t.inject({ method: 'POST', url, payload });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: number }>().id;
}

async function tokenFor(projectId: number): Promise<string> {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/tokens',
    payload: { name: `ci-${projectId}`, project_id: projectId, role: 'tester' },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ token: string }>().token;
}

beforeAll(async () => {
  // No workers: triggered runs stay queued, which is all these tests look at.
  t = await startTestRuntime({}, { workers: [] });
  billing = await create('/api/v1/projects', { slug: 'billing', name: 'Billing' });
  smoke.default = await create('/api/v1/suites', { name: 'smoke' });
  smoke.billing = await create('/api/v1/suites', { name: 'smoke', project_id: billing });
  for (const suite of Object.values(smoke))
    await create(`/api/v1/suites/${suite}/cases`, { name: 'echo', skill_name: 'echo' });
});

afterAll(async () => {
  await t?.stop();
});

describe('names per project', () => {
  it('lets two projects each have a suite and an environment of the same name, once each', async () => {
    expect(smoke.billing).not.toBe(smoke.default);
    const again = await t.inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name: 'smoke', project_id: billing },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toBe('a suite named "smoke" already exists in this project');

    await create('/api/v1/environments', { name: 'staging' });
    await create('/api/v1/environments', { name: 'staging', project_id: billing });
    const twice = await t.inject({
      method: 'POST',
      url: '/api/v1/environments',
      payload: { name: 'staging' },
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.message).toBe(
      'an environment named "staging" already exists in this project',
    );
  });

  it('refuses a name found in several of the caller’s projects, saying how to pick one', async () => {
    const ambiguous = await trigger({ suite_name: 'smoke' });
    expect(ambiguous.statusCode).toBe(400);
    const { message } = ambiguous.json<{ error: { message: string } }>().error;
    expect(message).toContain('there is a suite named "smoke" in several of your projects');
    expect(message).toContain(
      `default: project_id ${DEFAULT_PROJECT_ID}, suite_id ${smoke.default}`,
    );
    expect(message).toContain(`billing: project_id ${billing}, suite_id ${smoke.billing}`);
    expect(message).toContain('--project');

    const picked = await trigger({ suite_name: 'smoke', project_id: billing });
    expect(picked.statusCode, picked.body).toBe(202);
    expect(await suiteOf(picked.json<{ execution_id: number }>().execution_id)).toBe(smoke.billing);

    const mixed = await trigger({ suite_id: smoke.default, project_id: billing });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().error.message).toContain('project_id only goes with suite_name');
  });

  it('finds the name in a project token’s own project, environments included', async () => {
    const ci = bearer(await tokenFor(billing));
    const run = await trigger({ suite_name: 'smoke', environment: 'staging' }, ci);
    expect(run.statusCode, run.body).toBe(202);
    expect(await suiteOf(run.json<{ execution_id: number }>().execution_id)).toBe(smoke.billing);

    await create('/api/v1/environments', { name: 'only-default' });
    const foreign = await trigger({ suite_name: 'smoke', environment: 'only-default' }, ci);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.message).toBe(
      'environment "only-default" does not exist in the project of suite "smoke"',
    );

    // Another project's suite is as invisible by name as by id, even when named explicitly.
    const elsewhere = await trigger({ suite_name: 'smoke', project_id: DEFAULT_PROJECT_ID }, ci);
    expect(elsewhere.statusCode).toBe(404);
    expect((await trigger({ suite_name: 'nope' }, ci)).statusCode).toBe(404);
  });
});
