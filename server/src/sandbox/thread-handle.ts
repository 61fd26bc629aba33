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
  /** Stopped by the worker: no answer at the deadline or on cancel, or too long wrapping up. */
  | {
      kind: 'stopped';
      reason: 'not-started' | 'unresponsive-at-deadline' | 'unresponsive-to-cancel' | 'wrap-up';
    }
  | { kind: 'out-of-memory' }
  | { kind: 'exited'; code: number }
  | { kind: 'crashed'; error: Error };

export interface Watch {
  /** How long a thread may take to start and load the skill before it is stopped. */
  startMs: number;
  /** The task's own limit, from when it started; the thread is then asked if it still answers. */
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  /** How long a thread that was asked may take to answer before it is stopped. */
  graceMs: number;
  /** How long a thread that answered may take to finish after its deadline or a cancel. */
  wrapUpMs: number;
}

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

/** One sandbox thread, seen from its worker: runs one task at a time and stops it when told. */
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

  /** Answers a request the thread made while running its task. */
  reply(request: number, answer: { value?: boolean; error?: string }): void {
    if (this.alive) this.send({ type: 'reply', request, ...answer });
  }

  /**
   * Runs `task`, passing what the thread reports along to `onMessage`. Resolves however the
   * task ends; a thread that ended abnormally is not used again.
   */
  perform(
    task: SandboxTask,
    watch: Watch,
    onMessage: (
      message: Exclude<FromThread, { type: 'outcome' | 'compensated' | 'pong' | 'started' }>,
    ) => void,
  ): Promise<ThreadEnding> {
    this.busy = true;
    return new Promise<ThreadEnding>((resolve) => {
      const timers = new Set<NodeJS.Timeout>();
      const later = (ms: number, action: () => void): NodeJS.Timeout => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          action();
        }, ms);
        timers.add(timer);
        return timer;
      };
      let settled = false;
      const finish = (ending: ThreadEnding): void => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        this.worker.off('message', received);
        this.worker.off('error', failed);
        this.worker.off('exit', exited);
        watch.signal?.removeEventListener('abort', cancelled);
        this.busy = false;
        this.idleSince = Date.now();
        resolve(ending);
      };
      const stop = (reason: Extract<ThreadEnding, { kind: 'stopped' }>['reason']): void => {
        this.alive = false;
        void this.worker.terminate();
        finish({ kind: 'stopped', reason });
      };

      // Past its deadline (or once cancelled) the thread is pinged until it finishes: one whose
      // event loop is free answers at once and is given time to wrap up (screenshots, video);
      // one that stops answering, even midway, is stuck in the skill's code.
      let lastPing = 0;
      let awaitingPong: { nonce: number; timer: NodeJS.Timeout } | undefined;
      let checking: 'unresponsive-at-deadline' | 'unresponsive-to-cancel' | undefined;
      let wrapUp: NodeJS.Timeout | undefined;
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
            later(watch.deadlineMs, () => check('unresponsive-at-deadline'));
            return;
          case 'outcome':
          case 'compensated':
            finish({ kind: 'done', message });
            return;
          default:
            onMessage(message);
        }
      };
      const failed = (error: Error): void => {
        this.alive = false;
        const code = (error as NodeJS.ErrnoException).code;
        finish(
          code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? { kind: 'out-of-memory' }
            : { kind: 'crashed', error },
        );
      };
      const exited = (code: number): void => finish({ kind: 'exited', code });
      const cancelled = (): void => {
        this.send({ type: 'cancel' });
        check('unresponsive-to-cancel');
      };

      this.worker.on('message', received);
      this.worker.once('error', failed);
      this.worker.once('exit', exited);
      // Starting a thread and compiling the skill are not the case's time, but are bounded too.
      const starting = later(watch.startMs, () => stop('not-started'));
      if (watch.signal?.aborted) cancelled();
      else watch.signal?.addEventListener('abort', cancelled, { once: true });
      this.send({ type: 'task', task });
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
