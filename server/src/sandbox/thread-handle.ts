import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CLAIM_SLOTS, claimSlot, type ThreadData, type ToThread } from './protocol.js';
import {
  SeriesRun,
  type SeriesTask,
  type SeriesThread,
  type ThreadEnding,
  type ThreadFailure,
  type Watch,
} from './series-run.js';

export type { Reply, SeriesTask, TaskMessage, ThreadEnding, Watch } from './series-run.js';

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
 * One sandbox thread, seen from its worker: runs the series of tasks it is handed one after the
 * other, and is stopped when a task overruns its limits. The thread counts the series it has not
 * finished in memory it shares with the worker, so the worker can hand it the next series as
 * soon as it is free, while it still reads what the last one reported: a few busy threads then
 * serve a worker's cases, instead of one per job waiting for the worker's attention.
 */
export class ThreadHandle {
  private readonly worker: Worker;
  private readonly unfinished = new Int32Array(new SharedArrayBuffer(4));
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * CLAIM_SLOTS));
  /** Series handed to the thread, in order; the first gets what the thread reports. */
  private readonly runs: SeriesRun[] = [];
  private lastSeries = 0;
  private alive = true;
  /** Why the thread failed, for the series it was on once its last messages are read. */
  private failure: ThreadFailure | undefined;
  /** What a series may do with this thread. */
  private readonly seriesThread: SeriesThread;
  idleSince = Date.now();

  constructor(
    memoryMb: number,
    private readonly logger: Logger,
  ) {
    this.seriesThread = {
      send: (message) => this.send(message),
      stop: () => {
        this.alive = false;
        void this.worker.terminate();
      },
      reply: (request, answer) => {
        if (this.alive) this.send({ type: 'reply', request, ...answer });
      },
      logger,
    };
    // The thread's temporary files (a case's video and trace before they are stored, Playwright's
    // own) go to a folder of its own, removed when the thread ends: a thread stopped mid-case
    // cannot clean up after itself.
    const scratch = mkdtempSync(join(tmpdir(), 'webguard-thread-'));
    this.worker = new Worker(threadEntry(), {
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      env: { ...process.env, TMPDIR: scratch, TMP: scratch, TEMP: scratch },
      workerData: { unfinished: this.unfinished, claims: this.claims } satisfies ThreadData,
    });
    // A task's ending comes in one message with what the thread posted next.
    this.worker.on('message', (raw: unknown) => {
      if (!Array.isArray(raw)) return this.runs[0]?.received(raw);
      for (const message of raw) this.runs[0]?.received(message);
    });
    // Errors while idle (a skill's stray timer that throws) end the thread; the next case
    // gets a fresh one. A failure is told to a series at the exit that follows, once every
    // message the thread sent before it has been read.
    this.worker.on('error', (error) => {
      this.alive = false;
      const code = (error as NodeJS.ErrnoException).code;
      this.failure ??=
        code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { kind: 'out-of-memory' }
          : { kind: 'crashed', error };
      if (this.runs.length === 0) this.logger.warn({ err: error }, 'an idle sandbox thread failed');
    });
    this.worker.once('exit', (code) => {
      this.alive = false;
      this.runs[0]?.fail(this.failure ?? { kind: 'exited', code });
      rm(scratch, { recursive: true, force: true }).catch((error: unknown) =>
        this.logger.warn(
          { err: error, folder: scratch },
          'a sandbox thread’s temporary folder stays',
        ),
      );
    });
  }

  /** Free to take a series now: alive, and done with every series it was handed. */
  get available(): boolean {
    return this.alive && Atomics.load(this.unfinished, 0) === 0;
  }

  /**
   * May take another near-instant series behind those it has: alive, handed near-instant series
   * only, fewer than `depth` of them unfinished, and keeping up: the oldest series the worker
   * has not read to the end was handed over less than `withinMs` ago.
   */
  takesInstant(depth: number, withinMs: number): boolean {
    if (!this.alive || Atomics.load(this.unfinished, 0) >= depth) return false;
    const oldest = this.runs[0];
    if (oldest && performance.now() - oldest.handedAt >= withinMs) return false;
    return this.runs.every((run) => run.instant);
  }

  /** Alive, with nothing of its series left for the worker to read: may be stopped when unused. */
  get idle(): boolean {
    return this.alive && this.runs.length === 0;
  }

  /** Not stopped, crashed or exited: may take another series once this one ends. */
  get usable(): boolean {
    return this.alive;
  }

  /**
   * Runs the tasks one after the other, after any series the thread was handed before, passing
   * what the thread reports on each to its listeners. An `instant` series is expected to take a
   * few milliseconds, so others like it may queue behind it. A series queued behind others that
   * the thread has not begun within `patienceMs` is taken back. Resolves with how each task
   * ended, in order: after a task that ended abnormally (the thread is then not used again) the
   * rest did not start and have no ending; a series taken back, or left waiting by a thread that
   * failed, has none.
   */
  perform(
    series: readonly SeriesTask[],
    watch: Watch,
    { instant = false, patienceMs }: { instant?: boolean; patienceMs?: number } = {},
  ): Promise<ThreadEnding[]> {
    const run = new SeriesRun(
      ++this.lastSeries,
      series,
      watch,
      this.seriesThread,
      (ended) => this.settled(ended),
      instant,
    );
    if (!this.alive) {
      run.abandon();
      return run.done;
    }
    const queued = Atomics.load(this.unfinished, 0) > 0;
    this.runs.push(run);
    Atomics.store(this.claims, claimSlot(run.id), run.id);
    Atomics.add(this.unfinished, 0, 1);
    this.send({
      type: 'tasks',
      series: run.id,
      tasks: series.map((entry) => entry.task),
      cancelled: run.cancelledPositions(),
    });
    if (this.runs.length === 1) run.activate();
    if (queued && patienceMs !== undefined) {
      const timer = setTimeout(() => this.withdraw(run), patienceMs);
      void run.done.then(() => clearTimeout(timer));
    }
    return run.done;
  }

  /** Takes back a series the thread has not begun: it will skip it, and it ends with no endings. */
  private withdraw(run: SeriesRun): void {
    const at = this.runs.indexOf(run);
    const slot = claimSlot(run.id);
    if (at < 0 || Atomics.compareExchange(this.claims, slot, run.id, 0) !== run.id) return;
    Atomics.sub(this.unfinished, 0, 1);
    // The first series hands the thread's messages on as it settles; a later one just leaves.
    if (at > 0) this.runs.splice(at, 1);
    run.abandon();
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  /**
   * The first series ended (the others only end once taken off, abandoned): the next one gets
   * the thread's messages, or none will run here.
   */
  private settled(run: SeriesRun): void {
    if (this.runs[0] !== run) return;
    this.runs.shift();
    if (!this.alive) {
      for (const waiting of this.runs.splice(0)) waiting.abandon();
      return;
    }
    const next = this.runs.at(0);
    if (next) next.activate();
    else this.idleSince = Date.now();
  }

  private send(message: ToThread): void {
    this.worker.postMessage(message);
  }
}
