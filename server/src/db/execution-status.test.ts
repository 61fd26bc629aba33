import { describe, expect, it } from 'vitest';
import { deriveExecutionStatus, emptyCounts, summarize } from './execution-status.js';

const counts = (partial: Partial<ReturnType<typeof emptyCounts>>) => ({
  ...emptyCounts(),
  ...partial,
});

describe('deriveExecutionStatus', () => {
  it.each([
    [{ passed: 3 }, 'passed'],
    [{ passed: 2, skipped: 1 }, 'passed'],
    [{ passed: 2, failed: 1 }, 'failed'],
    [{ passed: 2, timeout: 1 }, 'failed'],
    [{ failed: 1, error: 1 }, 'failed'],
    [{ passed: 2, error: 1 }, 'error'],
    [{ skipped: 2 }, 'skipped'],
  ] as const)('%o → %s', (partial, expected) => {
    expect(deriveExecutionStatus(counts(partial))).toBe(expected);
  });
});

describe('summarize', () => {
  it('counts timeouts and errors as failed tests', () => {
    expect(summarize(counts({ passed: 2, failed: 1, timeout: 1, error: 1, skipped: 1 }))).toEqual({
      total: 6,
      passed: 2,
      failed: 3,
      skipped: 1,
    });
  });
});
