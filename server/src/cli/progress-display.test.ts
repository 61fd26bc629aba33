import { describe, expect, it } from 'vitest';
import type { ExecutionCase, ExecutionWithResults } from '@webguard/shared';
import {
  LiveBlock,
  progressState,
  renderProgress,
  type ProgressState,
} from './progress-display.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

const state = (changes: Partial<ProgressState> = {}): ProgressState => ({
  executionId: 42,
  suite: 'smoke',
  status: 'running',
  total: 10,
  passed: 3,
  failed: 1,
  skipped: 0,
  running: [
    { name: 'checkout', attempt: 1, startedAt: NOW - 12_000 },
    { name: 'login', attempt: 2, startedAt: NOW - 3_000 },
  ],
  queued: 4,
  elapsedMs: 65_000,
  now: NOW,
  ...changes,
});

describe('renderProgress', () => {
  it('shows the counts, the elapsed time and the cases running now with their age', () => {
    expect(renderProgress(state(), 120)).toEqual([
      '#42 smoke — running, 1:05',
      '  4/10 done: 3 passed, 1 failed, 0 skipped · 2 running, 4 queued',
      '  ▸ checkout (0:12)',
      '  ▸ login (0:03, attempt 2)',
    ]);
  });

  it('lists a few running cases and sums up the rest', () => {
    const running = Array.from({ length: 9 }, (_, i) => ({
      name: `case ${i}`,
      attempt: 1,
      startedAt: null,
    }));
    const lines = renderProgress(state({ running, elapsedMs: 3_725_000 }), 120);
    expect(lines[0]).toBe('#42 smoke — running, 1:02:05');
    expect(lines.slice(2)).toEqual([
      '  ▸ case 0',
      '  ▸ case 1',
      '  ▸ case 2',
      '  ▸ case 3',
      '  ▸ case 4',
      '  ▸ case 5',
      '  … and 3 more running',
    ]);
  });

  it('cuts lines to the terminal width so the block never wraps', () => {
    const lines = renderProgress(state({ suite: 'a suite with a rather long name' }), 20);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(20);
    expect(lines[0]).toBe('#42 a suite with a …');
  });
});

describe('progressState', () => {
  const execution = {
    id: 7,
    suite_name: 'nightly',
    status: 'running',
    total_tests: 5,
    passed_tests: 1,
    failed_tests: 1,
    skipped_tests: 0,
  } as ExecutionWithResults;
  const testCase = (name: string, state: ExecutionCase['state']): ExecutionCase => ({
    case_id: name.length,
    name,
    skill_name: 'echo',
    state,
    attempt: state === 'running' ? 1 : 0,
    started_at: state === 'running' ? new Date(NOW - 5_000).toISOString() : null,
  });

  it('takes the running and waiting cases from the case states', () => {
    const cases = [
      testCase('a', 'done'),
      testCase('b', 'done'),
      testCase('c', 'running'),
      testCase('d', 'queued'),
      testCase('e', 'pending'),
    ];
    expect(progressState(execution, cases, 9_000, NOW)).toMatchObject({
      executionId: 7,
      suite: 'nightly',
      passed: 1,
      failed: 1,
      running: [{ name: 'c', attempt: 1, startedAt: NOW - 5_000 }],
      queued: 2,
      elapsedMs: 9_000,
    });
  });

  it('counts what is not done as queued when the case states are not known', () => {
    expect(progressState(execution, undefined, 0, NOW)).toMatchObject({ running: [], queued: 3 });
  });
});

describe('LiveBlock', () => {
  it('redraws the block in place and prints finished lines above it', () => {
    const written: string[] = [];
    const block = new LiveBlock({ write: (text: string) => written.push(text) });
    block.update(['one', 'two']);
    block.print('✓ done');
    block.update(['three']);
    block.clear();
    expect(written).toEqual([
      'one\ntwo\n',
      // Up two lines, clear, the permanent line, then the block again below it.
      '\r\x1b[2A\x1b[J✓ done\none\ntwo\n',
      '\r\x1b[2A\x1b[Jthree\n',
      '\r\x1b[1A\x1b[J',
    ]);
  });
});
