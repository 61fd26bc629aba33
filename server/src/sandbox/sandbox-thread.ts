import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { SkillError, type CompensationRecord, type SkillDefinition } from '@webguard/shared';
// Modules, not the engine's index: that would import Playwright into threads that never need it.
import type { ArtifactFile, ArtifactSink } from '../engine/artifact-sink.js';
import type { BrowserPool, FrameSink } from '../engine/browser/index.js';
import { createMasker } from '../engine/masking.js';
import { runCase } from '../engine/run-case.js';
import { runCompensation } from '../engine/run-compensation.js';
import { createSkillImporter } from '../skills/import-skill-module.js';
import { loadFolder } from '../skills/load-skills.js';
import { systemErrorOutcome } from '../orchestration/outcomes.js';
import {
  claimSlot,
  type CompensateTask,
  type FromThread,
  type RunTask,
  type SandboxTask,
  type SkillFileRef,
  type ThreadData,
  type ToThread,
} from './protocol.js';

/**
 * A sandbox thread: runs the skill of one case at a time for its worker, which can stop the
 * thread at any moment (a loop that never yields, memory exhausted, `process.exit`) without
 * losing anything but that case. Everything the case records goes to the worker as it happens.
 */

if (!parentPort) throw new Error('sandbox-thread runs only as a worker thread');
const port = parentPort;
/**
 * How a task ended, held back to go out with the next message: with the next task's
 * `started`, a quick case costs the worker one message to read instead of two. Nothing is held
 * across a turn of the event loop, so a thread that fails (a skill's stray timer throws) has
 * sent the ending of every task it finished.
 */
let held: FromThread[] = [];
function post(message: FromThread): void {
  if (held.length === 0) return port.postMessage(message);
  held.push(message);
  release();
}
/** Sends what was held back, in order. */
function release(): void {
  if (held.length === 0) return;
  port.postMessage(held);
  held = [];
}
const { unfinished, claims } = workerData as ThreadData;

/** A series handed over: its position, the cancel of the task running there, later cancels. */
interface Series {
  index: number;
  running?: AbortController;
  cancelled: Set<number>;
}
/** Series handed over and not finished, by id; they run one after the other. */
const handed = new Map<number, Series>();
let lastSeries: Promise<void> = Promise.resolve();
const answers = new Map<
  number,
  { resolve: (value: boolean) => void; reject: (e: Error) => void }
>();
let lastRequest = 0;

/** Asks the worker something and waits for its answer. */
function ask(message: (request: number) => FromThread): Promise<boolean> {
  const request = ++lastRequest;
  return new Promise((resolve, reject) => {
    answers.set(request, { resolve, reject });
    post(message(request));
  });
}

port.on('message', receive);

/** Reads the worker's messages that arrived since the event loop last did: cancels above all. */
function receivePending(): void {
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port))
    receive(next.message as ToThread);
}

function receive(message: ToThread): void {
  switch (message.type) {
    case 'tasks': {
      const series: Series = { index: 0, cancelled: new Set(message.cancelled) };
      handed.set(message.series, series);
      // A bug that escapes a series ends the thread, as an uncaught error, for the worker to see.
      lastSeries = lastSeries
        .then(() => performSeries(message.series, series, message.tasks))
        .catch((error: unknown) => {
          setImmediate(() => {
            throw error;
          });
        });
      return;
    }
    case 'cancel': {
      const series = handed.get(message.series);
      for (const index of message.indexes) {
        if (series?.running && index === series.index) series.running.abort();
        else series?.cancelled.add(index);
      }
      return;
    }
    case 'ping':
      post({ type: 'pong', nonce: message.nonce });
      return;
    case 'reply': {
      const waiting = answers.get(message.request);
      answers.delete(message.request);
      if (message.error !== undefined) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.value ?? false);
    }
  }
}

/** Skills this thread loaded, reloaded when their file changes. */
const loaded = new Map<
  string,
  { mtimeMs: number; size: number; checkedAt: number; definition: SkillDefinition }
>();
/**
 * How long a loaded skill's file is trusted before it is looked at again: a stat per case was a
 * third of a fast case's cost, and an edited skill is still picked up within a second.
 */
const RECHECK_MS = 1_000;

async function loadSkill(ref: SkillFileRef): Promise<SkillDefinition> {
  let cached = loaded.get(ref.file);
  if (!cached || Date.now() - cached.checkedAt >= RECHECK_MS) {
    // The last task's ending does not wait for the file system.
    release();
    const file = await stat(ref.file).catch(() => undefined);
    if (!file) {
      throw new SkillError('system', `the file of skill "${ref.name}" is gone: ${ref.file}`);
    }
    if (!cached || cached.mtimeMs !== file.mtimeMs || cached.size !== file.size) {
      const result = await loadFolder(dirname(ref.file), ref.file, createSkillImporter());
      if (!result.ok) throw new SkillError('system', result.error.message);
      cached = {
        mtimeMs: file.mtimeMs,
        size: file.size,
        checkedAt: 0,
        definition: result.skill.definition,
      };
      loaded.set(ref.file, cached);
    }
    cached.checkedAt = Date.now();
  }
  const { definition } = cached;
  if (definition.name !== ref.name || definition.version !== ref.version) {
    throw new SkillError(
      'system',
      `${ref.file} now holds skill "${definition.name}" version ${definition.version}, not version ${ref.version} of "${ref.name}" that the worker loaded: reload the skills (POST /api/v1/skills/reload) to run the new one`,
    );
  }
  return definition;
}

/** One pool per served Chromium: after a relaunch the worker hands out a new endpoint. */
let browsers: { wsEndpoint: string; pool: BrowserPool } | undefined;

async function browserPoolFor(
  browser: NonNullable<RunTask['browser']>,
  logger: Logger,
): Promise<BrowserPool> {
  if (browsers?.wsEndpoint !== browser.wsEndpoint) {
    void browsers?.pool.close();
    const { BrowserPool } = await import('../engine/browser/browser-pool.js');
    const remote = { wsEndpoint: browser.wsEndpoint, launch: browser.launch };
    const pool = new BrowserPool({
      remote: () => remote,
      video: browser.video,
      trace: browser.trace,
      logger,
    });
    browsers = { wsEndpoint: browser.wsEndpoint, pool };
  }
  return browsers.pool;
}

const artifactSink: ArtifactSink = {
  async add(file: ArtifactFile) {
    await ask((request) => ({ type: 'artifact', request, file }));
  },
};

function frameSink(fps: number): FrameSink {
  return {
    fps,
    watched: () => ask((request) => ({ type: 'watched', request })),
    frame: (frame) => post({ type: 'frame', frame }),
  };
}

/**
 * Loggers whose lines go to the worker, which writes them with its own logger: in the case's
 * trace context, to the worker's destination.
 */
const loggers = new Map<string, Logger>();
function loggerAt(level: string): Logger {
  let logger = loggers.get(level);
  if (!logger) {
    const destination = { write: (line: string) => post({ type: 'log-line', line }) };
    logger = pino({ level, base: undefined, timestamp: false }, destination);
    loggers.set(level, logger);
  }
  return logger;
}

async function performSeries(id: number, current: Series, tasks: SandboxTask[]): Promise<void> {
  if (Atomics.compareExchange(claims, claimSlot(id), id, -id) !== id) {
    // The worker withdrew it while it waited, to run elsewhere, and counted it off already.
    handed.delete(id);
    return;
  }
  try {
    for (const [index, task] of tasks.entries()) {
      // Cancels sent while the previous task ran are read before the next one starts.
      if (index > 0) receivePending();
      current.index = index;
      if (current.cancelled.has(index)) {
        held.push({ type: 'not-started' });
        continue;
      }
      const controller = new AbortController();
      current.running = controller;
      const ending: FromThread =
        task.kind === 'run'
          ? { type: 'outcome', outcome: await performRun(task, controller) }
          : { type: 'compensated', record: await performCompensation(task) };
      held.push(ending);
      current.running = undefined;
    }
  } finally {
    release();
    handed.delete(id);
    Atomics.sub(unfinished, 0, 1);
  }
}

/**
 * Loads the task's skill and tells the worker the task has started, so its limit runs from
 * here; a skill that cannot be loaded comes back as the reason, for the task to fail with.
 */
async function startTask(task: SandboxTask): Promise<SkillDefinition | string> {
  try {
    return await loadSkill(task.skill);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    post({ type: 'started' });
  }
}

async function performRun(task: RunTask, controller: AbortController) {
  const logger = loggerAt(task.logLevel);
  const skill = await startTask(task);
  if (typeof skill === 'string') return systemErrorOutcome(createMasker(task.secrets)(skill));
  return runCase({
    ...caseInput(task, logger, controller),
    skill,
    params: task.params,
    browsers: task.browser && (await browserPoolFor(task.browser, logger)),
    artifacts: task.artifacts ? artifactSink : undefined,
    frames: task.framesFps === undefined ? undefined : frameSink(task.framesFps),
  });
}

function caseInput(task: RunTask, logger: Logger, controller: AbortController) {
  return {
    caseName: task.caseName,
    executionId: task.executionId,
    timeoutMs: task.timeoutMs,
    signal: controller.signal,
    logger,
    mask: createMasker(task.secrets),
    onLog: (entry) => post({ type: 'log', entry }),
    onStepStart: (step) => post({ type: 'step-start', step }),
    onStep: (step) => post({ type: 'step', step }),
    onMetric: (metric) => post({ type: 'metric', metric }),
  } satisfies Omit<Parameters<typeof runCase>[0], 'skill' | 'params'>;
}

async function performCompensation(task: CompensateTask) {
  const mask = createMasker(task.secrets);
  const skill = await startTask(task);
  if (typeof skill === 'string') {
    const failed: CompensationRecord = {
      status: 'failed',
      started_at: new Date().toISOString(),
      duration_ms: 0,
      error: mask(skill),
    };
    return failed;
  }
  return runCompensation({
    skill,
    params: task.params,
    outputs: task.outputs,
    caseName: task.caseName,
    executionId: task.executionId,
    timeoutMs: task.timeoutMs,
    logger: loggerAt(task.logLevel),
    mask,
  });
}
