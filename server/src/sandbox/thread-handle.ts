import { AsyncResource } from 'node:async_hooks';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { FromThread, type SandboxTask, type ToThread } from './protocol.js';

/** How a task on a sandbox thread ended. */
export type ThreadEnding =
  | { kind: 'done'; message: Extract<FromThread, { type: 'outcome' | 'compensated' }> }
  /** It was cancelled before its turn came, and did not start. */
  | { kind: 'not-started' }
  /** Stopped by the worker: no answer at the deadline or on cancel, or too long wrapping up. */
  | {
      kind: 'stopped';
      reason: 'not-started' | 'unresponsive-at-deadline' | 'unresponsive-to-cancel' | 'wrap-up';
    }
  | { kind: 'out-of-memory' }
  | { kind: 'exited'; code: number }
  | { kind: 'crashed'; error: Error };

/** The limits every task of a series runs under. */
export interface Watch {
  /** How long a thread may take to start a task (and load its skill) before it is stopped. */
  startMs: number;
  /** How long a thread that was asked may take to answer before it is stopped. */
  graceMs: number;
  /** How long a thread that answered may take to finish after its deadline or a cancel. */
  wrapUpMs: number;
}

/** Messages a task reports while it runs, for its caller. */
export type TaskMessage = Exclude<
  FromThread,
  { type: 'outcome' | 'compensated' | 'pong' | 'started' | 'not-started' }
>;

/** One task of a series, with what is its own: its limit, its cancel and its listeners. */
export interface SeriesTask {
  task: SandboxTask;
  /** The task's limit, from when it started; the thread is then asked if it still answers. */
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  /** The thread started the task: its skill is loaded and its limit runs from here. */
  onStart?: () => void;
  /** `reply` answers a request of the message (an artifact to store, a frame watcher to ask). */
  onMessage: (message: TaskMessage, reply: Reply) => void;
}

export type Reply = (request: number, answer: { value?: boolean; error?: string }) => void;

/**
 * The file a sandbox thread starts from. From the sources (tests, development) it is
 * TypeScript, compiled in the thread by tsx, which Node cannot preload into a worker.
 */
function threadEntry(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(
    fromSource ? './sandbox-thread.ts' : './sandbox-thread.js',
    import.meta.url,
  );
  if (!fromSource) return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/**
 * One sandbox thread, seen from its worker: runs one series of tasks at a time, one task after
 * the other, and stops the thread when a task overruns its limits.
 */
export class ThreadHandle {
  private readonly worker: Worker;
  private alive = true;
  private busy = false;
  idleSince = Date.now();

  constructor(
    memoryMb: number,
    private readonly logger: Logger,
  ) {
    // The thread's temporary files (a case's video and trace before they are stored, Playwright's
    // own) go to a folder of its own, removed when the thread ends: a thread stopped mid-case
    // cannot clean up after itself.
    const scratch = mkdtempSync(join(tmpdir(), 'webguard-thread-'));
    this.worker = new Worker(threadEntry(), {
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      env: { ...process.env, TMPDIR: scratch, TMP: scratch, TEMP: scratch },
    });
    this.worker.once('exit', () => {
      this.alive = false;
      rm(scratch, { recursive: true, force: true }).catch((error: unknown) =>
        this.logger.warn(
          { err: error, folder: scratch },
          'a sandbox thread’s temporary folder stays',
        ),
      );
    });
    // Errors while idle (a skill's stray timer that throws) end the thread; the next case
    // gets a fresh one.
    this.worker.on('error', (error) => {
      this.alive = false;
      if (!this.busy) this.logger.warn({ err: error }, 'an idle sandbox thread failed');
    });
  }

  /** Free to take a task. */
  get available(): boolean {
    return this.alive && !this.busy;
  }

  /** Not stopped, crashed or exited: may take another task once this one ends. */
  get usable(): boolean {
    return this.alive;
  }

  /** Answers a request the thread made while running a task. */
  private readonly reply: Reply = (request, answer) => {
    if (this.alive) this.send({ type: 'reply', request, ...answer });
  };

  /**
   * Runs the tasks one after the other, passing what the thread reports on each to its
   * listeners. Resolves with how each ended, in order: after a task that ended abnormally (the
   * thread is then not used again) the rest did not start and have no ending.
   */
  perform(series: readonly SeriesTask[], watch: Watch): Promise<ThreadEnding[]> {
    this.busy = true;
    return new Promise<ThreadEnding[]>((resolve) => {
      const endings: ThreadEnding[] = [];
      const timers = new Set<NodeJS.Timeout>();
      const later = (ms: number, action: () => void): NodeJS.Timeout => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          action();
        }, ms);
        timers.add(timer);
        return timer;
      };
      /** The task the thread is on: its position, and how it is being watched. */
      let index = 0;
      let lastPing = 0;
      let awaitingPong: { nonce: number; timer: NodeJS.Timeout } | undefined;
      let checking: 'unresponsive-at-deadline' | 'unresponsive-to-cancel' | undefined;
      let wrapUp: NodeJS.Timeout | undefined;
      let starting: NodeJS.Timeout | undefined;

      // Cases of one run are cancelled together: the cancels of one turn go out as one message,
      // so the thread cannot start a task whose cancel is still on its way.
      let cancelling = false;
      const sendCancels = (): void => {
        cancelling = false;
        if (settled) return;
        const indexes = series.flatMap((entry, position) =>
          position >= index && entry.signal?.aborted ? [position] : [],
        );
        if (indexes.length === 0) return;
        this.send({ type: 'cancel', indexes });
        if (indexes.includes(index)) check('unresponsive-to-cancel');
      };
      const cancels = series.map((entry) => {
        const cancelled = (): void => {
          if (cancelling) return;
          cancelling = true;
          queueMicrotask(sendCancels);
        };
        return { signal: entry.signal, cancelled };
      });
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        this.worker.off('message', received);
        this.worker.off('error', failed);
        this.worker.off('exit', exited);
        for (const { signal, cancelled } of cancels)
          signal?.removeEventListener('abort', cancelled);
        this.busy = false;
        this.idleSince = Date.now();
        resolve(endings);
      };
      /** The task at `index` ended; the thread goes on with the next, watched afresh. */
      const ended = (ending: ThreadEnding): void => {
        if (settled) return;
        endings.push(ending);
        if (ending.kind !== 'done' && ending.kind !== 'not-started') return finish();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        awaitingPong = undefined;
        checking = undefined;
        wrapUp = undefined;
        index++;
        if (index === series.length) return finish();
        starting = later(watch.startMs, () => stop('not-started'));
      };
      const stop = (reason: Extract<ThreadEnding, { kind: 'stopped' }>['reason']): void => {
        this.alive = false;
        void this.worker.terminate();
        ended({ kind: 'stopped', reason });
      };

      // Past its deadline (or once cancelled) the thread is pinged until the task finishes: one
      // whose event loop is free answers at once and is given time to wrap up (screenshots,
      // video); one that stops answering, even midway, is stuck in the skill's code.
      const ping = (): void => {
        if (awaitingPong || !checking) return;
        const reason = checking;
        const nonce = ++lastPing;
        awaitingPong = { nonce, timer: later(watch.graceMs, () => stop(reason)) };
        this.send({ type: 'ping', nonce });
      };
      const check = (reason: 'unresponsive-at-deadline' | 'unresponsive-to-cancel'): void => {
        checking ??= reason;
        ping();
      };

      // Run in the caller's async context, so what the thread reports is logged and traced as
      // part of the case that is running. (`AsyncResource.bind` costs a deprecation wrapper.)
      const context = new AsyncResource('webguard.sandbox-task');
      const received = (raw: unknown): void => context.runInAsyncScope(handle, null, raw);
      const handle = (raw: unknown): void => {
        const parsed = FromThread.safeParse(raw);
        if (!parsed.success) {
          this.logger.warn(
            { issues: parsed.error.issues.slice(0, 3) },
            'ignored a malformed message from a sandbox thread',
          );
          return;
        }
        const message = parsed.data;
        const current = series[index]!;
        switch (message.type) {
          case 'pong':
            if (awaitingPong?.nonce !== message.nonce) return;
            clearTimeout(awaitingPong.timer);
            awaitingPong = undefined;
            wrapUp ??= later(watch.wrapUpMs, () => stop('wrap-up'));
            later(Math.min(1_000, watch.graceMs), ping);
            return;
          case 'started':
            clearTimeout(starting);
            later(current.deadlineMs, () => check('unresponsive-at-deadline'));
            current.onStart?.();
            return;
          case 'outcome':
          case 'compensated':
            ended({ kind: 'done', message });
            return;
          case 'not-started':
            ended({ kind: 'not-started' });
            return;
          default:
            current.onMessage(message, this.reply);
        }
      };
      const failed = (error: Error): void => {
        this.alive = false;
        const code = (error as NodeJS.ErrnoException).code;
        ended(
          code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? { kind: 'out-of-memory' }
            : { kind: 'crashed', error },
        );
      };
      const exited = (code: number): void => ended({ kind: 'exited', code });

      this.worker.on('message', received);
      this.worker.once('error', failed);
      this.worker.once('exit', exited);
      // Starting a thread and compiling the skill are not the task's time, but are bounded too.
      starting = later(watch.startMs, () => stop('not-started'));
      const cancelled = cancels.flatMap(({ signal }, position) =>
        signal?.aborted ? [position] : [],
      );
      for (const { signal, cancelled: onCancel } of cancels)
        if (!signal?.aborted) signal?.addEventListener('abort', onCancel, { once: true });
      this.send({ type: 'tasks', tasks: series.map((entry) => entry.task), cancelled });
    });
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  private send(message: ToThread): void {
    this.worker.postMessage(message);
  }
}
