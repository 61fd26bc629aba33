import { performance } from 'node:perf_hooks';
import type { Level, Logger } from 'pino';
import {
  MAX_LOG_ENTRIES,
  type CaseOutcome,
  type CompensationRecord,
  type StepRecord,
} from '@webguard/shared';
import type { BrowserHost } from '../engine/browser/index.js';
import { createMasker, describeLimit, type CaseRecord } from '../engine/index.js';
import { systemErrorOutcome } from '../orchestration/outcomes.js';
import type {
  CaseEngine,
  EngineCaseInput,
  EngineCompensationInput,
  SkillSource,
} from './case-engine.js';
import type { RunTask } from './protocol.js';
import { ThreadHandle, type SeriesTask, type ThreadEnding, type Watch } from './thread-handle.js';

export interface SkillSandboxOptions {
  /** Heap a thread may use, in MB; past it the thread is stopped and its case fails. */
  memoryMb: number;
  /** The worker's Chromium for browser skills, closed with the sandbox. */
  browser?: BrowserHost;
  /** How long a new thread may take to start and load a skill. Default 60 s. */
  startMs?: number;
  /** How long a thread asked at its deadline or on cancel may take to answer. Default 5 s. */
  graceMs?: number;
  /** How long a responsive thread may take to finish after its deadline. Default 90 s. */
  wrapUpMs?: number;
  /** Idle threads are stopped after this long. Default 60 s. */
  idleMs?: number;
  /**
   * Threads started with the sandbox and kept when idle, so a worker's first cases do not wait
   * for a thread to load the engine. Default 1.
   */
  warmThreads?: number;
  /**
   * How long a near-instant series waits behind others on a thread before it is taken back and
   * run on a free or new thread: cases that were quick and are no longer (a service that slowed
   * down) delay the series queued behind them by this much, not by their own length.
   * Default 100 ms.
   */
  instantPatienceMs?: number;
  logger: Logger;
}

const CANCELLED = 'cancelled';

/**
 * A series whose cases took this long in all in their recent runs is near-instant: it may queue
 * on a thread that runs other such series instead of waking another thread. A few threads kept
 * busy are cheaper than many woken for a moment each: their code is optimized further, and the
 * worker's cores are not shared among as many threads and their garbage collectors.
 */
const INSTANT_SERIES_MS = 50;
/** Series a thread holds at most before a near-instant one goes to another thread. */
const INSTANT_QUEUE = 4;

/** Whether the history says the cases together take a few milliseconds. */
function isInstant(inputs: readonly EngineCaseInput[]): boolean {
  let total = 0;
  for (const { expectedMs } of inputs) {
    if (expectedMs === undefined) return false;
    total += expectedMs;
  }
  return total <= INSTANT_SERIES_MS;
}

/** A case handed to a thread as a task of a series, and how to read how the task ended. */
interface SandboxedCase {
  task: SeriesTask;
  /** The case's outcome; undefined when it was cancelled before it started. */
  outcomeOf: (ending: ThreadEnding) => CaseOutcome | undefined;
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
const isLevel = (label: string): label is Level => LEVELS.includes(label);

/** Writes a line of a thread's logger with the worker's own. */
function relayLogLine(logger: Logger, line: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return;
  }
  if (typeof parsed !== 'object' || parsed === null) return;
  const { level, msg, ...fields } = parsed as Record<string, unknown>;
  const label = typeof level === 'number' ? logger.levels.labels[level] : undefined;
  if (label && isLevel(label)) logger[label](fields, typeof msg === 'string' ? msg : '');
}

/**
 * Runs each case's skill in a sandbox thread (a worker thread with its own heap limit), one case
 * per thread at a time, threads reused while they stay healthy. A skill that loops without
 * yielding, exhausts its memory, calls `process.exit` or crashes is stopped at its limit and
 * reported as such; the worker and its other cases go on. What the case recorded before it was
 * stopped (steps, logs, metrics, artifacts) is kept.
 */
export class SkillSandbox implements CaseEngine {
  private readonly threads = new Set<ThreadHandle>();
  private readonly reaper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: SkillSandboxOptions) {
    for (let warm = 0; warm < this.warmThreads; warm++)
      this.threads.add(new ThreadHandle(options.memoryMb, options.logger));
    const idleMs = options.idleMs ?? 60_000;
    this.reaper = setInterval(() => this.stopIdle(idleMs), Math.max(1_000, idleMs / 2));
    this.reaper.unref();
  }

  /** Threads alive now, busy or idle. */
  get size(): number {
    return this.threads.size;
  }

  async run(input: EngineCaseInput): Promise<CaseOutcome> {
    const [outcome] = await this.runSeries([input]);
    return outcome ?? systemErrorOutcome(CANCELLED);
  }

  /**
   * Runs cases one after the other on one thread: the thread is handed them together, so quick
   * cases do not each wait for it. A case cancelled before its turn does not start (its entry
   * is undefined). When the thread has to be stopped, that case fails with the reason and the
   * cases after it go on on a fresh thread.
   */
  async runSeries(inputs: readonly EngineCaseInput[]): Promise<(CaseOutcome | undefined)[]> {
    const outcomes = new Array<CaseOutcome | undefined>(inputs.length);
    let waiting: { position: number; sandboxed: SandboxedCase }[] = [];
    for (const [position, input] of inputs.entries()) {
      const prepared = await this.prepare(input);
      if ('outcome' in prepared) outcomes[position] = prepared.outcome;
      else waiting.push({ position, sandboxed: prepared });
    }
    const instant = isInstant(inputs);
    let mayQueue = instant;
    while (waiting.length > 0) {
      const thread = this.acquire(mayQueue);
      const endings = await thread.perform(
        waiting.map(({ sandboxed }) => sandboxed.task),
        this.watch(),
        { instant, patienceMs: mayQueue ? (this.options.instantPatienceMs ?? 100) : undefined },
      );
      this.release(thread);
      for (const [index, ending] of endings.entries()) {
        const { position, sandboxed } = waiting[index]!;
        outcomes[position] = sandboxed.outcomeOf(ending);
      }
      waiting = waiting.slice(endings.length);
      // Taken back from a thread that overran, or left by one that failed: the rest go to a
      // free or new thread without waiting behind others again.
      mayQueue = false;
    }
    return outcomes;
  }

  /**
   * A case as a task of a thread's series, keeping what the thread reports as it happens, so a
   * stopped case loses nothing; or, when it cannot be handed to a thread, its outcome.
   */
  private async prepare(input: EngineCaseInput): Promise<SandboxedCase | { outcome: CaseOutcome }> {
    let startedAt = new Date();
    let start = performance.now();
    const mask = createMasker(input.secrets);
    const definition = input.skill.definition;

    let browser: RunTask['browser'];
    if (definition.category === 'browser' && this.options.browser) {
      try {
        const served = await this.options.browser.serve();
        const { video, trace } = this.options.browser;
        browser = {
          ...served,
          launch: { ...served.launch, args: [...served.launch.args] },
          video,
          trace,
        };
      } catch (error) {
        return {
          outcome: systemErrorOutcome(error instanceof Error ? error.message : String(error)),
        };
      }
    }

    const record: CaseRecord = { steps: [], metrics: [], logs: [] };
    const openSteps: { name: string; started_at: string }[] = [];
    const limit = describeLimit(definition, input.timeoutMs);
    const task: SeriesTask = {
      task: {
        kind: 'run',
        ...this.taskBase(input.skill, input),
        params: input.params,
        browser,
        artifacts: input.artifacts !== undefined,
        framesFps: input.frames?.fps,
      },
      deadlineMs: limit.ms,
      signal: input.signal,
      onStart: () => {
        startedAt = new Date();
        start = performance.now();
        input.onStart?.();
      },
      onMessage: (message, reply) => {
        switch (message.type) {
          case 'log-line':
            relayLogLine(input.logger, message.line);
            return;
          case 'log':
            if (record.logs.length < MAX_LOG_ENTRIES) record.logs.push(message.entry);
            input.onLog?.(message.entry);
            return;
          case 'step-start':
            openSteps.push(message.step);
            input.onStepStart?.(message.step);
            return;
          case 'step': {
            const open = openSteps.findIndex((step) => step.name === message.step.name);
            if (open >= 0) openSteps.splice(open, 1);
            record.steps.push(message.step);
            input.onStep?.(message.step);
            return;
          }
          case 'metric':
            record.metrics.push(message.metric);
            input.onMetric?.(message.metric);
            return;
          case 'artifact': {
            const sink = input.artifacts;
            if (!sink) return reply(message.request, { error: 'no artifact store' });
            sink.add(message.file).then(
              () => reply(message.request, {}),
              (error: unknown) =>
                reply(message.request, {
                  error: error instanceof Error ? error.message : String(error),
                }),
            );
            return;
          }
          case 'watched':
            (input.frames?.watched() ?? Promise.resolve(false)).then(
              (value) => reply(message.request, { value }),
              () => reply(message.request, { value: false }),
            );
            return;
          case 'frame':
            input.frames?.frame(message.frame);
        }
      },
    };
    const outcomeOf = (ending: ThreadEnding): CaseOutcome | undefined => {
      if (ending.kind === 'not-started') return undefined;
      if (ending.kind === 'done') {
        return ending.message.type === 'outcome'
          ? ending.message.outcome
          : systemErrorOutcome('the sandbox thread answered a case with a compensation');
      }
      const { status, errorType, message } = this.describeStop(ending, definition.name, limit);
      const now = new Date();
      for (const step of openSteps) {
        const stopped: StepRecord = {
          name: step.name,
          status: 'failed',
          started_at: step.started_at,
          duration_ms: Math.max(0, now.getTime() - Date.parse(step.started_at)),
          error: mask(message),
        };
        record.steps.push(stopped);
        input.onStep?.(stopped);
      }
      input.logger.warn(
        { case_name: input.caseName, skill: definition.name, ending: ending.kind },
        message,
      );
      return {
        status,
        error_type: errorType,
        error_message: mask(message),
        stack_trace: null,
        started_at: startedAt.toISOString(),
        completed_at: now.toISOString(),
        execution_time_ms: Math.round(performance.now() - start),
        outputs: {},
        ...record,
      };
    };
    return { task, outcomeOf };
  }

  async compensate(input: EngineCompensationInput): Promise<CompensationRecord> {
    const startedAt = new Date();
    const start = performance.now();
    const thread = this.acquire(false);
    const limit = describeLimit(input.skill.definition, input.timeoutMs);
    const [ending] = await thread.perform(
      [
        {
          task: {
            kind: 'compensate',
            ...this.taskBase(input.skill, input),
            outputs: input.outputs,
          },
          deadlineMs: limit.ms,
          onMessage: (message) => {
            if (message.type === 'log-line') relayLogLine(input.logger, message.line);
          },
        },
      ],
      this.watch(),
    );
    this.release(thread);
    if (ending?.kind === 'done' && ending.message.type === 'compensated')
      return ending.message.record;
    const reason =
      ending === undefined || ending.kind === 'done' || ending.kind === 'not-started'
        ? 'the sandbox thread answered a compensation with a case outcome'
        : this.describeStop(ending, input.skill.definition.name, limit).message;
    return {
      status: 'failed',
      started_at: startedAt.toISOString(),
      duration_ms: Math.round(performance.now() - start),
      error: createMasker(input.secrets)(reason),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    const threads = [...this.threads];
    this.threads.clear();
    await Promise.all(threads.map((thread) => thread.terminate()));
    await this.options.browser?.close();
  }

  private taskBase(
    skill: SkillSource,
    input: Pick<
      EngineCaseInput,
      'params' | 'caseName' | 'executionId' | 'timeoutMs' | 'secrets' | 'logger'
    >,
  ) {
    return {
      skill: { file: skill.file, name: skill.definition.name, version: skill.definition.version },
      params: input.params,
      caseName: input.caseName,
      executionId: input.executionId,
      timeoutMs: input.timeoutMs,
      secrets: input.secrets,
      logLevel: input.logger.level,
    };
  }

  private watch(): Watch {
    return {
      startMs: this.options.startMs ?? 60_000,
      graceMs: this.options.graceMs ?? 5_000,
      wrapUpMs: this.options.wrapUpMs ?? 90_000,
    };
  }

  /**
   * The oldest healthy thread that is free, or a new one: work goes to the fewest threads, whose
   * code is then the most optimized, and the rest go idle and are stopped. A near-instant series
   * first queues on the oldest thread that keeps up with such series and holds few.
   */
  private acquire(instant: boolean): ThreadHandle {
    if (this.closed) throw new Error('the skill sandbox is closed: the worker is shutting down');
    if (instant) {
      for (const thread of this.threads)
        if (thread.takesInstant(INSTANT_QUEUE, INSTANT_SERIES_MS)) return thread;
    }
    for (const thread of this.threads) if (thread.available) return thread;
    const thread = new ThreadHandle(this.options.memoryMb, this.options.logger);
    this.threads.add(thread);
    return thread;
  }

  /** A thread that ended abnormally is dropped; the next case gets a fresh one. */
  private release(thread: ThreadHandle): void {
    if (!thread.usable) {
      this.threads.delete(thread);
      void thread.terminate();
    }
  }

  private get warmThreads(): number {
    return this.options.warmThreads ?? 1;
  }

  private stopIdle(idleMs: number): void {
    const now = Date.now();
    let kept = 0;
    for (const thread of this.threads) {
      if (!thread.idle) continue;
      if (kept < this.warmThreads) {
        kept++;
        continue;
      }
      if (now - thread.idleSince > idleMs) {
        this.threads.delete(thread);
        void thread.terminate();
      }
    }
  }

  private describeStop(
    ending: Exclude<ThreadEnding, { kind: 'done' | 'not-started' }>,
    skill: string,
    limit: { ms: number; whose: string },
  ): { status: 'timeout' | 'error'; errorType: 'timeout' | 'system'; message: string } {
    const system = (message: string) => ({
      status: 'error' as const,
      errorType: 'system' as const,
      message,
    });
    switch (ending.kind) {
      case 'stopped':
        if (ending.reason === 'not-started')
          return system(
            `skill "${skill}" did not start within ${(this.options.startMs ?? 60_000) / 1000} s (does loading its file hang?), so its thread was stopped`,
          );
        if (ending.reason === 'unresponsive-to-cancel')
          return system(
            `${CANCELLED}; skill "${skill}" kept its thread busy and did not stop, so the thread was stopped`,
          );
        return {
          status: 'timeout',
          errorType: 'timeout',
          message:
            ending.reason === 'wrap-up'
              ? `the case timed out after ${limit.ms} ms (${limit.whose}) and did not finish within ${(this.options.wrapUpMs ?? 90_000) / 1000} s after that, so its thread was stopped`
              : `the case timed out after ${limit.ms} ms (${limit.whose}) while skill "${skill}" kept its thread busy (a loop that never waits?), so the thread was stopped`,
        };
      case 'out-of-memory':
        return system(
          `skill "${skill}" ran out of memory: it needed more than its ${this.options.memoryMb} MB (WEBGUARD_SKILL_MEMORY_MB), so its thread was stopped`,
        );
      case 'exited':
        return system(
          `skill "${skill}" ended its thread (exit code ${ending.code}) before the case finished; a skill must return or throw`,
        );
      case 'crashed':
        return system(
          `skill "${skill}" crashed its thread with an error no code caught: ${ending.error.message}`,
        );
    }
  }
}
