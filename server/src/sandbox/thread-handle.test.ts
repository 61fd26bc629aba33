import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_SKILLS } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { loadSkills, type LoadedSkill } from '../skills/load-skills.js';
import type { RunTask } from './protocol.js';
import { ThreadHandle, type SeriesTask, type ThreadEnding } from './thread-handle.js';

const logger = pino({ level: 'silent' });
const watch = { startMs: 60_000, graceMs: 1_000, wrapUpMs: 5_000 };
let skills: Map<string, LoadedSkill>;
let thread: ThreadHandle | undefined;

beforeAll(async () => {
  const loaded = await loadSkills({ dirs: [FIXTURE_SKILLS] });
  skills = new Map(loaded.skills.map((skill) => [skill.definition.name, skill]));
});
afterEach(async () => {
  await thread?.terminate();
  thread = undefined;
});

/** A task of a fixture skill, keeping the log lines the thread reports for it. */
function task(skill: string, params: Record<string, unknown>, logs: string[]): SeriesTask {
  const loaded = skills.get(skill);
  if (!loaded) throw new Error(`no fixture skill ${skill}`);
  const run: RunTask = {
    kind: 'run',
    skill: {
      file: loaded.file,
      name: loaded.definition.name,
      version: loaded.definition.version,
    },
    params,
    caseName: `${skill}-case`,
    executionId: null,
    timeoutMs: 10_000,
    secrets: [],
    logLevel: 'silent',
    artifacts: false,
  };
  return {
    task: run,
    deadlineMs: 10_000,
    onMessage: (message) => {
      if (message.type === 'log') logs.push(message.entry.message);
    },
  };
}

/**
 * Holds the worker's event loop, so it reads none of the thread's messages, until the thread
 * has finished every series it was handed.
 */
function holdUntilAvailable(handle: ThreadHandle): void {
  const giveUp = Date.now() + 30_000;
  while (!handle.available) {
    if (Date.now() > giveUp) throw new Error('the thread never finished its series');
  }
}

const outputsOf = (endings: ThreadEnding[]) =>
  endings.map((ending) =>
    ending.kind === 'done' && ending.message.type === 'outcome'
      ? ending.message.outcome.outputs
      : ending,
  );

describe('sandbox thread handle', () => {
  it('hands a thread its next series before the worker has read what the last one reported', async () => {
    thread = new ThreadHandle(256, logger);
    const first: string[] = [];
    const second: string[] = [];
    const earlier = thread.perform(
      ['a', 'b'].map((message) => task('echo', { message }, first)),
      watch,
    );
    holdUntilAvailable(thread);
    // The thread is free although none of its messages were read: the next series goes to it.
    const later = thread.perform(
      ['c', 'd'].map((message) => task('echo', { message }, second)),
      watch,
    );
    expect(outputsOf(await earlier)).toEqual([{ message: 'a' }, { message: 'b' }]);
    expect(outputsOf(await later)).toEqual([{ message: 'c' }, { message: 'd' }]);
    expect(first).toEqual(['a', 'b']);
    expect(second).toEqual(['c', 'd']);
  });

  it('takes back a queued series the thread has not begun, and it skips it', async () => {
    thread = new ThreadHandle(256, logger);
    const logs: string[] = [];
    const long = thread.perform([task('wait', { ms: 1_500 }, logs)], watch);
    const queued = thread.perform([task('echo', { message: 'taken back' }, logs)], watch, {
      patienceMs: 100,
    });
    expect(await queued).toEqual([]);
    expect(thread.available).toBe(false);
    expect(outputsOf(await long)).toEqual([{ waited_ms: 1_500 }]);
    // Counted off once: the thread is free again, and runs what it is handed next.
    await waitFor(async () => thread?.available || undefined, { what: 'the thread to be free' });
    const next = await thread.perform([task('echo', { message: 'next' }, logs)], watch);
    expect(outputsOf(next)).toEqual([{ message: 'next' }]);
    expect(logs).toEqual(['next']);
  });

  it('keeps a queued series the thread has begun, past its patience', async () => {
    thread = new ThreadHandle(256, logger);
    const logs: string[] = [];
    await thread.perform([task('echo', { message: 'warm' }, logs)], watch);
    const quick = thread.perform([task('echo', { message: 'quick' }, logs)], watch);
    // Begun within milliseconds of the quick one ending, long before its patience runs out.
    const begun = thread.perform([task('wait', { ms: 2_000 }, logs)], watch, {
      patienceMs: 1_000,
    });
    expect(outputsOf(await quick)).toEqual([{ message: 'quick' }]);
    expect(outputsOf(await begun)).toEqual([{ waited_ms: 2_000 }]);
  });

  it('blames a thread’s failure on the series it happened in, not on one still being read', async () => {
    thread = new ThreadHandle(256, logger);
    const logs: string[] = [];
    const earlier = thread.perform([task('echo', { message: 'fine' }, logs)], watch);
    holdUntilAvailable(thread);
    const later = thread.perform([task('hog', { mode: 'exit' }, logs)], watch);
    // The thread loads the skill and exits while the worker has still read nothing of the
    // first series; what it sent before is read first, then its exit is told to the second.
    const hold = Date.now() + 3_000;
    while (Date.now() < hold);
    expect(outputsOf(await earlier)).toEqual([{ message: 'fine' }]);
    expect(await later).toEqual([
      {
        kind: 'crashed',
        error: expect.objectContaining({ message: expect.stringMatching(/process\.exit\(7\)/) }),
      },
    ]);
    expect(thread.available).toBe(false);
  });
});
