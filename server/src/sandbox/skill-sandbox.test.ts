import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry, StepRecord } from '@webguard/shared';
import { FIXTURE_SKILLS } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { BrowserHost } from '../engine/browser/index.js';
import type { ArtifactFile } from '../engine/index.js';
import { loadSkills, type LoadedSkill } from '../skills/load-skills.js';
import type { EngineCaseInput } from './case-engine.js';
import { SkillSandbox } from './skill-sandbox.js';

const logger = pino({ level: 'silent' });
let skills: Map<string, LoadedSkill>;
let sandbox: SkillSandbox;
let browser: BrowserHost;

beforeAll(async () => {
  const loaded = await loadSkills({ dirs: [FIXTURE_SKILLS] });
  skills = new Map(loaded.skills.map((skill) => [skill.definition.name, skill]));
  browser = new BrowserHost({ searchPath: process.env['PATH'] ?? '', logger });
  sandbox = new SkillSandbox({ memoryMb: 512, graceMs: 1_000, browser, logger });
});
afterAll(async () => {
  await sandbox.close();
});

/** An engine input for a case of a fixture skill, with the defaults these tests share. */
function caseInput(
  skill: string,
  params: Record<string, unknown>,
  extra: Partial<EngineCaseInput> = {},
): EngineCaseInput {
  const loaded = skills.get(skill);
  if (!loaded) throw new Error(`no fixture skill ${skill}`);
  return {
    skill: loaded,
    params,
    caseName: `${skill}-case`,
    executionId: null,
    timeoutMs: 3_000,
    logger,
    secrets: [],
    ...extra,
  };
}

/** Runs one case of a fixture skill, keeping what it reported as it went. */
async function runCase(
  skill: string,
  params: Record<string, unknown>,
  extra: Partial<EngineCaseInput> = {},
  engine: SkillSandbox = sandbox,
) {
  const live = {
    logs: [] as LogEntry[],
    steps: [] as StepRecord[],
    artifacts: [] as ArtifactFile[],
  };
  const outcome = await engine.run(
    caseInput(skill, params, {
      onLog: (entry) => live.logs.push(entry),
      onStep: (step) => live.steps.push(step),
      artifacts: { add: async (file) => void live.artifacts.push(file) },
      ...extra,
    }),
  );
  return { outcome, live };
}

describe('skill sandbox', () => {
  it('runs a case in a thread, streaming what it records, and reuses the thread', async () => {
    const first = await runCase('hog', { mode: 'pass' });
    expect(first.outcome).toMatchObject({ status: 'passed', outputs: { mode: 'pass' } });
    expect(first.outcome.metrics).toEqual([{ name: 'before', value: 1, unit: null }]);
    expect(first.live.logs.map((entry) => entry.message)).toEqual(['about to pass']);
    expect(first.live.steps.map((step) => [step.name, step.status])).toEqual([
      ['warm up', 'passed'],
      ['misbehave', 'passed'],
    ]);
    expect(first.live.artifacts).toMatchObject([
      { name: 'note.txt', contentType: 'text/plain', kind: 'attachment' },
    ]);
    const second = await runCase('hog', { mode: 'pass' });
    expect(second.outcome.status).toBe('passed');
    expect(sandbox.size).toBe(1);
  });

  it('stops a skill that never yields at its deadline, keeping what it recorded', async () => {
    const { outcome } = await runCase('hog', { mode: 'loop' }, { timeoutMs: 500 });
    expect(outcome).toMatchObject({ status: 'timeout', error_type: 'timeout' });
    expect(outcome.error_message).toMatch(
      /timed out after 500 ms .*kept its thread busy.*thread was stopped/,
    );
    expect(outcome.logs.map((entry) => entry.message)).toEqual(['about to loop']);
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['warm up', 'passed'],
      ['misbehave', 'failed'],
    ]);
    expect((await runCase('hog', { mode: 'pass' })).outcome.status).toBe('passed');
  });

  it('removes the temporary files of a thread it had to stop', async () => {
    const { outcome } = await runCase('hog', { mode: 'scratch-then-loop' }, { timeoutMs: 500 });
    expect(outcome).toMatchObject({ status: 'timeout' });
    const folder = outcome.logs.find((entry) => entry.message === 'scratch')?.data?.['folder'];
    if (typeof folder !== 'string') throw new Error('the skill did not say where it wrote');
    // In the thread's own temporary folder, not the worker's.
    expect(folder.startsWith(join(tmpdir(), 'webguard-thread-'))).toBe(true);
    await waitFor(async () => (existsSync(folder) ? undefined : true), {
      what: 'the stopped thread’s temporary files to go',
    });
  });

  it('stops a skill that exhausts its memory', async () => {
    const small = new SkillSandbox({ memoryMb: 64, logger });
    try {
      const { outcome } = await runCase('hog', { mode: 'memory' }, { timeoutMs: 60_000 }, small);
      expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
      expect(outcome.error_message).toMatch(/ran out of memory: it needed more than its 64 MB/);
      expect((await runCase('hog', { mode: 'pass' }, {}, small)).outcome.status).toBe('passed');
    } finally {
      await small.close();
    }
  });

  it('fails the case of a skill that calls process.exit or throws from a timer', async () => {
    const exited = await runCase('hog', { mode: 'exit' });
    expect(exited.outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(exited.outcome.error_message).toMatch(/process\.exit\(7\)/);
    const thrown = await runCase('hog', { mode: 'throw-later' });
    expect(thrown.outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(thrown.outcome.error_message).toMatch(/crashed its thread.*thrown from a timer/);
    expect((await runCase('hog', { mode: 'pass' })).outcome.status).toBe('passed');
  });

  it('stops a busy skill that is cancelled', async () => {
    const controller = new AbortController();
    // Cancelled once it is in its loop: the step before it has ended.
    const { outcome } = await runCase(
      'hog',
      { mode: 'loop' },
      {
        timeoutMs: 60_000,
        signal: controller.signal,
        onStep: (step) => {
          if (step.name === 'warm up') setTimeout(() => controller.abort(), 100);
        },
      },
    );
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(outcome.error_message).toMatch(/^cancelled; .*did not stop/);
  });

  describe('a series of cases', () => {
    it('runs cases one after the other on one thread, each reported as its own', async () => {
      const starts: string[] = [];
      const logs: string[] = [];
      const outcomes = await sandbox.runSeries(
        ['one', 'two', 'three'].map((message) =>
          caseInput(
            'echo',
            { message },
            {
              onStart: () => starts.push(message),
              onLog: (entry: LogEntry) => logs.push(entry.message),
            },
          ),
        ),
      );
      expect(outcomes.map((outcome) => outcome?.outputs)).toEqual([
        { message: 'one' },
        { message: 'two' },
        { message: 'three' },
      ]);
      expect(starts).toEqual(['one', 'two', 'three']);
      expect(logs).toEqual(['one', 'two', 'three']);
    });

    it('queues series of near-instant cases on one thread, and gives cases of unknown length a free or new one', async () => {
      // Patient enough that a busy test machine cannot make a series give up its place.
      const engine = new SkillSandbox({ memoryMb: 256, logger, instantPatienceMs: 30_000 });
      try {
        const series = (count: number, extra: Partial<EngineCaseInput>) =>
          engine.runSeries(
            Array.from({ length: count }, (_, index) =>
              caseInput('echo', { message: `m${index}` }, extra),
            ),
          );
        const instant = await Promise.all([1, 2, 3].map(() => series(5, { expectedMs: 2 })));
        expect(instant.flat().map((outcome) => outcome?.status)).toEqual(
          new Array(15).fill('passed'),
        );
        expect(engine.size).toBe(1);
        const unknown = await Promise.all([1, 2].map(() => series(2, {})));
        expect(unknown.flat().map((outcome) => outcome?.status)).toEqual(
          new Array(4).fill('passed'),
        );
        expect(engine.size).toBe(2);
      } finally {
        await engine.close();
      }
    });

    it('takes a near-instant series back from a thread whose cases turned slow, and runs it on another', async () => {
      const engine = new SkillSandbox({ memoryMb: 256, logger, instantPatienceMs: 100 });
      try {
        // The history says instant; the service behind the first case has slowed down.
        const slow = new AbortController();
        const finished: string[] = [];
        const stuck = engine
          .runSeries([caseInput('wait', { ms: 60_000 }, { expectedMs: 1, signal: slow.signal })])
          .finally(() => finished.push('slow'));
        const quick = engine
          .runSeries([caseInput('echo', { message: 'quick' }, { expectedMs: 1 })])
          .finally(() => finished.push('quick'));
        const [outcome] = await quick;
        expect(outcome).toMatchObject({ status: 'passed', outputs: { message: 'quick' } });
        expect(finished).toEqual(['quick']);
        expect(engine.size).toBe(2);
        slow.abort();
        expect((await stuck)[0]).toMatchObject({ status: 'error', error_message: 'cancelled' });
      } finally {
        await engine.close();
      }
    });

    it('does not start a case cancelled while it waits its turn', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const started: number[] = [];
      const outcomes = await sandbox.runSeries(
        [0, 1, 2].map((index) =>
          caseInput(
            'wait',
            { ms: 20_000 },
            { signal: controller.signal, onStart: () => started.push(index) },
          ),
        ),
      );
      expect(outcomes[0]).toMatchObject({ status: 'error', error_message: 'cancelled' });
      expect(outcomes.slice(1)).toEqual([undefined, undefined]);
      expect(started).toEqual([0]);
    });

    it('goes on with the rest on a fresh thread after it stopped one, keeping what ran', async () => {
      const outcomes = await sandbox.runSeries([
        caseInput('echo', { message: 'before' }),
        caseInput('hog', { mode: 'loop' }, { timeoutMs: 300 }),
        caseInput('echo', { message: 'after' }),
      ]);
      expect(outcomes[0]).toMatchObject({ status: 'passed', outputs: { message: 'before' } });
      expect(outcomes[1]).toMatchObject({ status: 'timeout', error_type: 'timeout' });
      expect(outcomes[1]!.logs.map((entry) => entry.message)).toContain('about to loop');
      expect(outcomes[2]).toMatchObject({ status: 'passed', outputs: { message: 'after' } });
    });
  });

  it('stops a compensation that never yields, and runs the next one', async () => {
    const skill = skills.get('hog');
    if (!skill) throw new Error('no hog');
    const compensate = (mode: string) =>
      sandbox.compensate({
        skill,
        params: { mode },
        outputs: {},
        caseName: 'undo',
        executionId: null,
        timeoutMs: 500,
        logger,
        secrets: [],
      });
    expect(await compensate('loop')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/kept its thread busy/),
    });
    expect(await compensate('pass')).toMatchObject({ status: 'passed', error: null });
  });

  it('runs browser skills on the worker’s one Chromium, surviving a thread stopped mid-page', async () => {
    const locked = await runCase('page-hog', { title: 'stuck', loop: true }, { timeoutMs: 8_000 });
    expect(locked.outcome.status).toBe('timeout');
    expect(locked.live.artifacts.map((file) => file.name)).toContain('shown.png');
    const shown = await runCase('page-hog', { title: 'hello' }, { timeoutMs: 20_000 });
    expect(shown.outcome).toMatchObject({ status: 'passed', outputs: { title: 'hello' } });
    expect(shown.live.artifacts.map((file) => file.name)).toContain('shown.png');
    expect(browser.launches).toBe(1);
  });

  it('notices within a second that a skill file it loaded was edited', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wg-sandbox-skill-'));
    try {
      const source = await readFile(join(FIXTURE_SKILLS, 'echo', 'skill.ts'), 'utf8');
      const file = join(dir, 'echo', 'skill.ts');
      await mkdir(dirname(file));
      await writeFile(file, source);
      const loaded = await loadSkills({ dirs: [dir] });
      const [skill] = loaded.skills;
      if (!skill) throw new Error(`the copied skill did not load: ${JSON.stringify(loaded)}`);
      const input = {
        skill,
        params: { message: 'hi' },
        caseName: 'edited',
        executionId: null,
        timeoutMs: 3_000,
        logger,
        secrets: [],
      };
      expect(await sandbox.run(input)).toMatchObject({ status: 'passed' });
      await writeFile(file, source.replace("version: '1.0.0'", "version: '2.0.0'"));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const outcome = await sandbox.run(input);
      expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
      expect(outcome.error_message).toMatch(/now holds skill "echo" version 2\.0\.0/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails a case whose skill file no longer holds the version the worker loaded', async () => {
    const skill = skills.get('hog');
    if (!skill) throw new Error('no hog');
    const moved = { ...skill, file: join(FIXTURE_SKILLS, 'echo', 'skill.ts') };
    const outcome = await sandbox.run({
      skill: moved,
      params: { mode: 'pass' },
      caseName: 'moved',
      executionId: null,
      timeoutMs: 3_000,
      logger,
      secrets: [],
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(outcome.error_message).toMatch(/now holds skill "echo".*reload the skills/);
  });
});
