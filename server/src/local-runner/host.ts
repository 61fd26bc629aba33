import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch, type FSWatcher } from 'chokidar';
import {
  LIVE_EVENTS_VERSION,
  LocalRunRequest,
  LocalRunnerChildMessage,
  type LocalRunEvent,
  type LocalRunFrame,
  type LocalRunState,
  type LocalRunnerHostMessage,
  type LocalSkill,
  type RunEvent,
} from '@webguard/shared';

export interface LocalRunnerHostOptions {
  /** The program that runs the child; default this Node (Electron passes its own, run as Node). */
  execPath?: string;
  /** Extra environment for the child, e.g. `ELECTRON_RUN_AS_NODE=1` under Electron. */
  env?: Record<string, string>;
  /** Chromium for browser skills; unset means found as the workers find it. */
  chromiumPath?: string | null;
  /** How long past its timeout a child that does not answer is given before it is killed (default 5 s). */
  graceMs?: number;
  /** How long file changes settle before a watched folder runs again (default 250 ms). */
  debounceMs?: number;
}

interface HostEvents {
  event: [LocalRunEvent];
  frame: [LocalRunFrame];
  state: [LocalRunState];
  /** What each run found in its folder, before it runs it. */
  skill: [{ run_id: string; skill: LocalSkill }];
}

interface ActiveRun {
  id: string;
  request: ReturnType<typeof LocalRunRequest.parse>;
  iteration: number;
  child: ChildProcess | null;
  lastSeq: number;
  finished: boolean;
  killTimer: ReturnType<typeof setTimeout> | undefined;
  watcher: FSWatcher | null;
  rerunTimer: ReturnType<typeof setTimeout> | undefined;
  stopped: boolean;
}

/** The child entry beside this module; from sources (tests, dev) it runs through tsx. */
function childEntry(): { path: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(fromSource ? './child.ts' : './child.js', import.meta.url));
  return { path, execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

/**
 * Runs skill folders on this machine, each run in its own child process: a skill that throws,
 * crashes its process or hangs ends as a failed run and the host carries on. With `watch`, every
 * saved file starts the run again. Emits the live event contract's run events per run id.
 */
export class LocalRunnerHost extends EventEmitter<HostEvents> {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly graceMs: number;
  private readonly debounceMs: number;

  constructor(private readonly options: LocalRunnerHostOptions = {}) {
    super();
    this.graceMs = options.graceMs ?? 5000;
    this.debounceMs = options.debounceMs ?? 250;
  }

  private spawn(): ChildProcess {
    const entry = childEntry();
    return fork(entry.path, [], {
      execPath: this.options.execPath ?? process.execPath,
      execArgv: entry.execArgv,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
  }

  /** Loads a folder in a child process and says which skill it holds, or why it does not load. */
  inspect(folder: string, timeoutMs = 30_000): Promise<LocalSkill> {
    return new Promise((resolve) => {
      const child = this.spawn();
      const fail = (error: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve({ ok: false, folder, error });
      };
      const timer = setTimeout(
        () => fail(`loading ${folder} took longer than ${timeoutMs} ms`),
        timeoutMs,
      );
      child.on('message', (raw) => {
        const parsed = LocalRunnerChildMessage.safeParse(raw);
        if (parsed.success && parsed.data.type === 'skill') {
          clearTimeout(timer);
          child.kill();
          resolve(parsed.data.skill);
        }
      });
      child.on('exit', (code) =>
        fail(`loading ${folder} stopped its process (exit code ${code ?? 'none'})`),
      );
      child.on('error', (error) => fail(error.message));
      child.send({ type: 'inspect', folder } satisfies LocalRunnerHostMessage);
    });
  }

  /** Starts a run (and, with `watch`, keeps it going on every save); returns its id. */
  start(input: unknown): string {
    const parsed = LocalRunRequest.parse(input);
    const request = { ...parsed, folder: resolve(parsed.folder) };
    const run: ActiveRun = {
      id: randomUUID(),
      request,
      iteration: 0,
      child: null,
      lastSeq: 0,
      finished: false,
      killTimer: undefined,
      watcher: null,
      rerunTimer: undefined,
      stopped: false,
    };
    this.runs.set(run.id, run);
    if (request.watch) {
      run.watcher = watch(request.folder, {
        ignoreInitial: true,
        // Relative to the folder: the folder itself may live under a node_modules.
        ignored: (path) =>
          /(^|[/\\])(node_modules|\.git)([/\\]|$)/.test(path.slice(request.folder.length)),
      });
      run.watcher.on('all', () => {
        clearTimeout(run.rerunTimer);
        run.rerunTimer = setTimeout(() => this.iterate(run), this.debounceMs);
      });
    }
    this.iterate(run);
    return run.id;
  }

  /** Stops a run and its watching; false when there is no such run. */
  stop(runId: string): boolean {
    const run = this.runs.get(runId);
    if (!run) return false;
    run.stopped = true;
    clearTimeout(run.rerunTimer);
    clearTimeout(run.killTimer);
    void run.watcher?.close();
    this.runs.delete(runId);
    if (run.child && run.child.exitCode === null) {
      if (!run.finished) this.synthesizeEnd(run, 'cancelled', 'stopped by the user');
      run.child.kill('SIGKILL');
    }
    this.setState(run, 'stopped', null);
    return true;
  }

  /** Stops every run, e.g. when the app quits. */
  async close(): Promise<void> {
    for (const id of [...this.runs.keys()]) this.stop(id);
  }

  private setState(run: ActiveRun, state: LocalRunState['state'], message: string | null) {
    this.emit('state', { run_id: run.id, state, iteration: Math.max(1, run.iteration), message });
  }

  private forward(run: ActiveRun, event: RunEvent) {
    run.lastSeq = event.seq;
    if (event.type === 'execution.finished') run.finished = true;
    this.emit('event', { run_id: run.id, event });
  }

  /** Ends a run its child could not end: the case and the run finish with the reason. */
  private synthesizeEnd(
    run: ActiveRun,
    status: 'error' | 'timeout' | 'cancelled',
    message: string,
  ) {
    const base = {
      v: LIVE_EVENTS_VERSION,
      execution_id: 0,
      time: new Date().toISOString(),
    } as const;
    const caseName = run.request.folder.split(/[/\\]/).filter(Boolean).pop() ?? 'skill';
    this.forward(run, {
      ...base,
      seq: run.lastSeq + 1,
      type: 'case.finished',
      case_id: 0,
      case_name: caseName,
      status: status === 'cancelled' ? 'error' : status,
      error_type: status === 'timeout' ? 'timeout' : 'system',
      error_message: message,
      duration_ms: 0,
      attempt: 1,
      will_retry: false,
      result_id: null,
    });
    this.forward(run, {
      ...base,
      seq: run.lastSeq + 1,
      type: 'execution.finished',
      status,
      total_tests: 1,
      passed_tests: 0,
      failed_tests: 1,
      skipped_tests: 0,
      duration_ms: null,
    });
  }

  /** One run of the folder: a fresh child, replacing a run still going. */
  private iterate(run: ActiveRun) {
    if (run.stopped) return;
    const previous = run.child;
    if (previous && previous.exitCode === null) {
      if (!run.finished) this.synthesizeEnd(run, 'cancelled', 'a file changed: running again');
      previous.removeAllListeners('exit');
      previous.kill('SIGKILL');
    }
    clearTimeout(run.killTimer);
    run.iteration += 1;
    run.lastSeq = 0;
    run.finished = false;
    this.setState(run, 'starting', null);

    const child = this.spawn();
    run.child = child;
    const settle = (message: string | null) => {
      clearTimeout(run.killTimer);
      if (run.child !== child || run.stopped) return;
      this.setState(run, run.request.watch ? 'watching' : 'finished', message);
    };
    child.on('message', (raw) => {
      if (run.child !== child) return;
      const parsed = LocalRunnerChildMessage.safeParse(raw);
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.type === 'event') {
        if (message.event.type === 'execution.started') this.setState(run, 'running', null);
        this.forward(run, message.event);
      } else if (message.type === 'frame') {
        this.emit('frame', { run_id: run.id, frame: message.frame });
      } else if (message.type === 'skill') {
        this.emit('skill', { run_id: run.id, skill: message.skill });
      } else if (message.type === 'done') {
        // The skill may have left timers behind; the run is over either way.
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }
    });
    child.on('exit', (code, signal) => {
      if (run.child !== child) return;
      if (!run.finished) {
        const reason = `the skill's process ended unexpectedly (${signal ?? `exit code ${code ?? 'none'}`})`;
        this.synthesizeEnd(run, 'error', reason);
        clearTimeout(run.killTimer);
        if (!run.stopped) this.setState(run, run.request.watch ? 'watching' : 'crashed', reason);
        return;
      }
      settle(null);
    });
    child.on('error', (error) => {
      if (run.child === child && !run.finished) this.synthesizeEnd(run, 'error', error.message);
    });
    // The engine ends a case at its deadline; a skill that blocks its process never lets it.
    run.killTimer = setTimeout(() => {
      if (run.child !== child || run.finished) return;
      const reason = `the skill did not finish within ${run.request.timeout_ms} ms and its process stopped answering, so it was killed`;
      this.synthesizeEnd(run, 'timeout', reason);
      child.kill('SIGKILL');
      this.setState(run, run.request.watch ? 'watching' : 'crashed', reason);
    }, run.request.timeout_ms + this.graceMs);
    child.send({
      type: 'start',
      folder: run.request.folder,
      params: run.request.params,
      headed: run.request.headed,
      timeout_ms: run.request.timeout_ms,
      chromium_path: this.options.chromiumPath ?? null,
    } satisfies LocalRunnerHostMessage);
  }
}
