import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalRunEvent, RunEvent } from '@webguard/shared';
import { waitFor } from '../../test/support/wait-for.js';
import { LocalRunnerHost } from './host.js';

// Inside the repository's node_modules so the skills resolve @webguard/shared like real ones.
const cache = fileURLToPath(new URL('../../../node_modules/.cache', import.meta.url));
mkdirSync(cache, { recursive: true });
const root = mkdtempSync(join(cache, 'wg-local-runner-'));

function skillFolder(name: string, body: string, category = 'api'): string {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'skill.ts'),
    `import { defineSkill, z } from '@webguard/shared';
export default defineSkill({
  name: '${name}',
  category: '${category}',
  version: '1.0.0',
  description: 'local runner test skill',
  params: z.object({ word: z.string().default('hello') }),
  async run(ctx, params) {
    ${body}
  },
});
`,
  );
  return folder;
}

const host = new LocalRunnerHost({ graceMs: 500, debounceMs: 100 });
const events: LocalRunEvent[] = [];
host.on('event', (event) => events.push(event));
const of = (runId: string) =>
  events.filter((item) => item.run_id === runId).map((item) => item.event);
const until = (condition: () => boolean, what: string) =>
  waitFor(async () => (condition() ? true : undefined), { timeoutMs: 30_000, what });
const finishedRuns = (runId: string) =>
  of(runId).filter(
    (event): event is Extract<RunEvent, { type: 'execution.finished' }> =>
      event.type === 'execution.finished',
  );

afterAll(async () => {
  await host.close();
  rmSync(root, { recursive: true, force: true });
});

describe('LocalRunnerHost', () => {
  it('runs a skill folder, streams its events in order and runs again when a file changes', async () => {
    const folder = skillFolder(
      'greeter',
      `await ctx.step('greet', () => ctx.log.info('says ' + params.word)); return { said: params.word };`,
    );
    const runId = host.start({ folder, params: { word: 'hi' }, watch: true });
    await until(() => finishedRuns(runId).length === 1, 'the first run');
    const first = of(runId);
    expect(first.map((event) => event.type)).toEqual([
      'execution.queued',
      'execution.started',
      'case.started',
      'step.started',
      'log',
      'step.finished',
      'case.finished',
      'execution.finished',
    ]);
    expect(first.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(first.find((event) => event.type === 'log')).toMatchObject({
      entry: { message: 'says hi' },
    });
    expect(finishedRuns(runId)[0]).toMatchObject({ status: 'passed', passed_tests: 1 });

    writeFileSync(join(folder, 'notes.txt'), 'a save in the folder');
    await until(() => finishedRuns(runId).length === 2, 'the run after the save');
    expect(finishedRuns(runId)[1]).toMatchObject({ status: 'passed', seq: 8 });
    host.stop(runId);
  });

  it('survives a skill that throws and one that blocks its process, and keeps running others', async () => {
    const thrower = skillFolder('thrower', `throw new Error('boom from the skill');`);
    const blocker = skillFolder('blocker', `for (;;) { /* never yields */ }`);
    const throwing = host.start({ folder: thrower });
    const blocking = host.start({ folder: blocker, timeout_ms: 1000 });
    await until(
      () => finishedRuns(throwing).length === 1 && finishedRuns(blocking).length === 1,
      'both runs to end',
    );
    const thrown = of(throwing).find((event) => event.type === 'case.finished');
    expect(thrown).toMatchObject({
      status: 'error',
      error_message: expect.stringContaining('boom from the skill'),
    });
    expect(finishedRuns(blocking)[0]).toMatchObject({ status: 'timeout' });
    expect(of(blocking).find((event) => event.type === 'case.finished')).toMatchObject({
      error_message: expect.stringContaining('was killed'),
    });

    const after = host.start({ folder: skillFolder('after', `return { ok: true };`) });
    await until(() => finishedRuns(after).length === 1, 'the run after them');
    expect(finishedRuns(after)[0]).toMatchObject({ status: 'passed' });
  });

  it('runs a browser skill headless, with live frames and its screenshot as a file', async () => {
    const frames: number[] = [];
    host.on('frame', ({ frame }) => frames.push(frame.frame));
    const folder = skillFolder(
      'looker',
      `await ctx.page!.setContent('<h1 style="font-size:64px">local run</h1>');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await ctx.screenshot('page');`,
      'browser',
    );
    const runId = host.start({ folder });
    await until(() => finishedRuns(runId).length === 1, 'the browser run');
    expect(finishedRuns(runId)[0]).toMatchObject({ status: 'passed' });
    const artifact = of(runId).find((event) => event.type === 'artifact.added');
    expect(artifact).toMatchObject({
      artifact: { kind: 'screenshot', url: expect.stringMatching(/^file:.*page/) },
    });
    expect(frames.length).toBeGreaterThan(0);
  });

  it('says why a folder does not hold a skill', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(host.inspect(empty)).resolves.toMatchObject({
      ok: false,
      error: expect.stringContaining('holds no skill'),
    });
    await expect(host.inspect(join(root, 'greeter'))).resolves.toMatchObject({
      ok: true,
      skill: { name: 'greeter', params_schema: { properties: { word: { default: 'hello' } } } },
    });
  });
});
