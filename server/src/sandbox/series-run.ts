import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
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

/** An ending that leaves the thread unusable. */
export type ThreadFailure = Extract<ThreadEnding, { kind: 'out-of-memory' | 'exited' | 'crashed' }>;

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

export type Reply = (request: number, answer: { value?: boolean; error?: string }) => void;

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

/** What a series needs of the thread it was handed to. */
export interface SeriesThread {
  send(message: ToThread): void;
  /** Ends the thread: one of the series' tasks overran its limits. */
  stop(): void;
  reply: Reply;
  logger: Logger;
}

type StopReason = Extract<ThreadEnding, { kind: 'stopped' }>['reason'];

/**
 * One series of tasks handed to a sandbox thread, seen from the worker: what the thread reports
 * goes to the task it is on, and each task is watched against its limits. A thread may already
 * run a later series while the worker still reads this one's messages; the series is only
 * watched once it is `activate`d, when the thread's messages are its own.
 */
export class SeriesRun {
  /** How each task ended, in order: after an abnormal ending the rest did not start. */
  readonly done: Promise<ThreadEnding[]>;
  /** When it was handed to the thread, on `performance.now()`'s clock. */
  readonly handedAt = performance.now();
  private resolve!: (endings: ThreadEnding[]) => void;
  private readonly endings: ThreadEnding[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The task the thread is on. */
  private index = 0;
  private active = false;
  private settled = false;
  private lastPing = 0;
  private awaitingPong: { nonce: number; timer: NodeJS.Timeout } | undefined;
  private checking: 'unresponsive-at-deadline' | 'unresponsive-to-cancel' | undefined;
  private wrapUp: NodeJS.Timeout | undefined;
  private starting: NodeJS.Timeout | undefined;
  private cancelling = false;
  private readonly cancelListeners: { signal: AbortSignal; listener: () => void }[] = [];
  /**
   * The caller's async context, so what the thread reports is logged and traced as part of the
   * case that is running. (`AsyncResource.bind` costs a deprecation wrapper.)
   */
  private readonly context = new AsyncResource('webguard.sandbox-task');

  constructor(
    readonly id: number,
    private readonly series: readonly SeriesTask[],
    private readonly watch: Watch,
    private readonly thread: SeriesThread,
    private readonly onSettled: (run: SeriesRun) => void,
    /** Expected to take a few milliseconds: other such series may wait behind it. */
    readonly instant = false,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    // Cases of one run are cancelled together: the cancels of one turn go out as one message,
    // so the thread cannot start a task whose cancel is still on its way.
    const cancelled = (): void => {
      if (this.cancelling) return;
      this.cancelling = true;
      queueMicrotask(() => this.sendCancels());
    };
    for (const { signal } of series) {
      if (!signal || signal.aborted) continue;
      signal.addEventListener('abort', cancelled, { once: true });
      this.cancelListeners.push({ signal, listener: cancelled });
    }
  }

  /** Positions of tasks cancelled before the series was handed over: they are not started. */
  cancelledPositions(): number[] {
    return this.series.flatMap((entry, position) => (entry.signal?.aborted ? [position] : []));
  }

  /** The thread's messages are this series' from now on: its tasks are watched. */
  activate(): void {
    this.active = true;
    // Starting a thread and compiling the skill are not the task's time, but are bounded too.
    this.starting = this.later(this.watch.startMs, () => this.stopThread('not-started'));
    // A task cancelled while the series waited may be the one the thread is on.
    this.sendCancels();
  }

  /** A message from the thread, for the task it is on. */
  received(raw: unknown): void {
    this.context.runInAsyncScope(this.handle, null, raw);
  }

  /** The thread ended while on this series: the task it was on ends with how. */
  fail(failure: ThreadFailure): void {
    this.ended(failure);
  }

  /** The thread ended before this series' turn: none of its tasks ran. */
  abandon(): void {
    this.finish();
  }

  private readonly handle = (raw: unknown): void => {
    const parsed = FromThread.safeParse(raw);
    if (!parsed.success) {
      this.thread.logger.warn(
        { issues: parsed.error.issues.slice(0, 3) },
        'ignored a malformed message from a sandbox thread',
      );
      return;
    }
    const message = parsed.data;
    const current = this.series[this.index]!;
    switch (message.type) {
      case 'pong':
        if (this.awaitingPong?.nonce !== message.nonce) return;
        clearTimeout(this.awaitingPong.timer);
        this.awaitingPong = undefined;
        this.wrapUp ??= this.later(this.watch.wrapUpMs, () => this.stopThread('wrap-up'));
        this.later(Math.min(1_000, this.watch.graceMs), () => this.ping());
        return;
      case 'started':
        clearTimeout(this.starting);
        this.later(current.deadlineMs, () => this.check('unresponsive-at-deadline'));
        current.onStart?.();
        return;
      case 'outcome':
      case 'compensated':
        this.ended({ kind: 'done', message });
        return;
      case 'not-started':
        this.ended({ kind: 'not-started' });
        return;
      default:
        current.onMessage(message, this.thread.reply);
    }
  };

  private sendCancels(): void {
    this.cancelling = false;
    if (this.settled) return;
    const indexes = this.series.flatMap((entry, position) =>
      position >= this.index && entry.signal?.aborted ? [position] : [],
    );
    if (indexes.length === 0) return;
    this.thread.send({ type: 'cancel', series: this.id, indexes });
    if (this.active && indexes.includes(this.index)) this.check('unresponsive-to-cancel');
  }

  /**
   * Past its deadline (or once cancelled) the thread is pinged until the task finishes: one
   * whose event loop is free answers at once and is given time to wrap up (screenshots, video);
   * one that stops answering, even midway, is stuck in the skill's code.
   */
  private ping(): void {
    if (this.awaitingPong || !this.checking) return;
    const reason = this.checking;
    const nonce = ++this.lastPing;
    this.awaitingPong = {
      nonce,
      timer: this.later(this.watch.graceMs, () => this.stopThread(reason)),
    };
    this.thread.send({ type: 'ping', nonce });
  }

  private check(reason: 'unresponsive-at-deadline' | 'unresponsive-to-cancel'): void {
    this.checking ??= reason;
    this.ping();
  }

  private stopThread(reason: StopReason): void {
    this.thread.stop();
    this.ended({ kind: 'stopped', reason });
  }

  /** The task the thread is on ended; the thread goes on with the next, watched afresh. */
  private ended(ending: ThreadEnding): void {
    if (this.settled) return;
    this.endings.push(ending);
    if (ending.kind !== 'done' && ending.kind !== 'not-started') return this.finish();
    this.clearTimers();
    this.awaitingPong = undefined;
    this.checking = undefined;
    this.wrapUp = undefined;
    this.index++;
    if (this.index === this.series.length) return this.finish();
    this.starting = this.later(this.watch.startMs, () => this.stopThread('not-started'));
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    this.clearTimers();
    for (const { signal, listener } of this.cancelListeners)
      signal.removeEventListener('abort', listener);
    this.resolve(this.endings);
    this.onSettled(this);
  }

  private later(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
