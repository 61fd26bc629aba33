import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { createLogger } from '../runtime/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';

const skill = (
  description: string,
  version = '1.0.0',
) => `import { defineSkill, z } from '@webguard/shared';
export default defineSkill({
  name: 'added',
  category: 'api',
  version: '${version}',
  description: '${description}',
  params: z.object({}),
  run: () => ({ version: '${version}' }),
});
`;

let dir: string;
let t: TestRuntime;
const others: Runtime[] = [];

/** Another process of the same cluster (same Redis prefix and database), without the API. */
async function joinCluster(watchSkills: boolean): Promise<Runtime> {
  const config = { ...t.config, watchSkills };
  const runtime = await startRuntime(
    config,
    { api: false, workers: [] },
    createLogger(config, 'test'),
  );
  others.push(runtime);
  return runtime;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wg-reload-'));
  t = await startTestRuntime({ WEBGUARD_SKILLS_PATHS: dir });
});

afterAll(async () => {
  for (const runtime of others) await runtime.close();
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function writeSkill(folder: string, source: string): Promise<void> {
  await mkdir(join(dir, folder), { recursive: true });
  await writeFile(join(dir, folder, 'skill.ts'), source);
}

describe('skill versions and hot reload', () => {
  it('reloads every process of the cluster on request, keeping each version', async () => {
    const worker = await joinCluster(false);
    expect(worker.skills.get('added')).toBeUndefined();
    await writeSkill('added', skill('second', '2.0.0'));
    await writeSkill('added@1.0.0', skill('first'));

    const reloaded = await t.inject({ method: 'POST', url: '/api/v1/skills/reload' });
    expect(reloaded.statusCode, reloaded.body).toBe(200);
    expect(reloaded.json().items).toContainEqual(
      expect.objectContaining({ name: 'added', version: '2.0.0', versions: ['2.0.0', '1.0.0'] }),
    );
    await waitFor(async () => worker.skills.get('added', '^1'), {
      what: 'the other process to reload',
    });

    const pinned = (await t.inject('/api/v1/skills/added?version=~1.0')).json();
    expect(pinned).toMatchObject({ version: '1.0.0', description: 'first' });
    const missing = await t.inject('/api/v1/skills/added?version=^3');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toContain('no version matching "^3"');
    const bad = await t.inject('/api/v1/skills/added?version=latest-ish');
    expect(bad.statusCode).toBe(400);
  });

  it('runs the version a case pins, and refuses a pin nothing installed satisfies', async () => {
    const suite = (
      await t.inject({ method: 'POST', url: '/api/v1/suites', payload: { name: 'pins' } })
    ).json();
    const addCase = (payload: object) =>
      t.inject({ method: 'POST', url: `/api/v1/suites/${suite.id}/cases`, payload });
    const refused = await addCase({ name: 'future', skill_name: 'added', skill_version: '^3' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({
      message: 'skill "added" has no version matching "^3" (installed: 2.0.0, 1.0.0)',
      details: [{ path: 'skill_version' }],
    });
    expect(
      (await addCase({ name: 'old', skill_name: 'added', skill_version: '~1.0' })).statusCode,
    ).toBe(201);
    expect((await addCase({ name: 'new', skill_name: 'added' })).statusCode).toBe(201);

    const triggered = await t.inject({
      method: 'POST',
      url: '/api/v1/executions',
      payload: { suite_id: suite.id },
    });
    const id = triggered.json().execution_id as number;
    const run = await waitFor(
      async () => {
        const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
        return execution.completed_at ? execution : undefined;
      },
      { what: 'the run to finish' },
    );
    const ran = Object.fromEntries(
      run.results.map((r: { test_name: string; outputs: { version: string } }) => [
        r.test_name,
        r.outputs.version,
      ]),
    );
    expect(ran).toEqual({ old: '1.0.0', new: '2.0.0' });
  });

  it('reloads by itself when a skill file changes, if asked to watch', async () => {
    const watcher = await joinCluster(true);
    await writeSkill('added', skill('edited on disk', '2.0.0'));
    await waitFor(
      async () =>
        watcher.skills.get('added')?.info.description === 'edited on disk' ? true : undefined,
      { what: 'the watching process to pick up the edit' },
    );
  });
});
