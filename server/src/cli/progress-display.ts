import type { ExecutionCase, ExecutionWithResults } from '@webguard/shared';

/** What the live block shows: a snapshot of one execution as `webguard run --wait` polls it. */
export interface ProgressState {
  executionId: number;
  suite: string;
  status: ExecutionWithResults['status'];
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Cases running now, in dispatch order; `startedAt` in ms since the epoch. */
  running: { name: string; attempt: number; startedAt: number | null }[];
  /** Cases queued or waiting on others. */
  queued: number;
  elapsedMs: number;
  /** The clock the running cases' ages are measured against, in ms since the epoch. */
  now: number;
}

/** Running cases listed by name before the rest are summed up as "… and N more". */
const MAX_RUNNING_SHOWN = 6;

const clock = (ms: number) => {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const ss = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes % 60).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
};

/** A line cut to the terminal's width, so the block never wraps and redraws in place. */
const fit = (line: string, columns: number) =>
  line.length <= columns ? line : `${line.slice(0, Math.max(columns - 1, 0))}…`;

/** The state of an execution and its cases, as the live block shows it. */
export function progressState(
  execution: ExecutionWithResults,
  cases: ExecutionCase[] | undefined,
  elapsedMs: number,
  now: number,
): ProgressState {
  const running = (cases ?? [])
    .filter((testCase) => testCase.state === 'running')
    .map((testCase) => ({
      name: testCase.name,
      attempt: testCase.attempt,
      startedAt: testCase.started_at === null ? null : Date.parse(testCase.started_at),
    }));
  const done = execution.passed_tests + execution.failed_tests + execution.skipped_tests;
  const queued = cases
    ? cases.filter((testCase) => testCase.state === 'queued' || testCase.state === 'pending').length
    : Math.max(execution.total_tests - done, 0);
  return {
    executionId: execution.id,
    suite: execution.suite_name,
    status: execution.status,
    total: execution.total_tests,
    passed: execution.passed_tests,
    failed: execution.failed_tests,
    skipped: execution.skipped_tests,
    running,
    queued,
    elapsedMs,
    now,
  };
}

/** The live status block's lines for `state`, each at most `columns` wide. A pure function. */
export function renderProgress(state: ProgressState, columns: number): string[] {
  const done = state.passed + state.failed + state.skipped;
  const lines = [
    `#${state.executionId} ${state.suite} — ${state.status}, ${clock(state.elapsedMs)}`,
    `  ${done}/${state.total} done: ${state.passed} passed, ${state.failed} failed, ${state.skipped} skipped · ${state.running.length} running, ${state.queued} queued`,
  ];
  for (const testCase of state.running.slice(0, MAX_RUNNING_SHOWN)) {
    const age = testCase.startedAt === null ? '' : clock(state.now - testCase.startedAt);
    const retry = testCase.attempt > 1 ? `attempt ${testCase.attempt}` : '';
    const detail = [age, retry].filter(Boolean).join(', ');
    lines.push(`  ▸ ${testCase.name}${detail ? ` (${detail})` : ''}`);
  }
  if (state.running.length > MAX_RUNNING_SHOWN)
    lines.push(`  … and ${state.running.length - MAX_RUNNING_SHOWN} more running`);
  return lines.map((line) => fit(line, columns));
}

// ANSI: to the start of the line N lines up (CR, then cursor up); clear to the screen's end.
const up = (lines: number) => `\r\x1b[${lines}A`;
const CLEAR_DOWN = '\x1b[J';

/**
 * One block of lines redrawn in place at the bottom of a terminal, with permanent lines (a case
 * that finished) printed above it.
 */
export class LiveBlock {
  private shown: string[] = [];

  constructor(private readonly stream: { write(text: string): unknown }) {}

  private erase(): string {
    return this.shown.length > 0 ? `${up(this.shown.length)}${CLEAR_DOWN}` : '';
  }

  private draw(lines: string[]): string {
    return lines.map((line) => `${line}\n`).join('');
  }

  /** Replaces the block with `lines`. */
  update(lines: string[]): void {
    this.stream.write(`${this.erase()}${this.draw(lines)}`);
    this.shown = lines;
  }

  /** Prints a line that stays, above the block. */
  print(line: string): void {
    this.stream.write(`${this.erase()}${line}\n${this.draw(this.shown)}`);
  }

  /** Removes the block, leaving the lines printed above it. */
  clear(): void {
    this.stream.write(this.erase());
    this.shown = [];
  }
}
