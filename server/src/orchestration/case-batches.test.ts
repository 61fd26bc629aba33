import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_LIMITS, packCases } from './case-batches.js';

const cases = (expected: (number | null)[]) =>
  expected.map((expectedMs, index) => ({ name: `c${index}`, expectedMs }));
const names = (jobs: { name: string }[][]) => jobs.map((job) => job.map((c) => c.name));

describe('packCases', () => {
  it('gives every case a job of its own while there are too few to spread over the slots', () => {
    const jobs = packCases(cases(Array<number>(19).fill(5)), DEFAULT_BATCH_LIMITS);
    expect(jobs).toHaveLength(19);
  });

  it('shares jobs between quick cases, in dispatch order, over at least minJobs jobs', () => {
    const jobs = packCases(cases(Array<number>(35).fill(5)), DEFAULT_BATCH_LIMITS);
    expect(jobs.map((job) => job.length)).toEqual([...Array<number>(11).fill(3), 2]);
    expect(jobs.flat().map((c) => c.name)).toEqual(
      cases(Array<number>(35).fill(5)).map((c) => c.name),
    );
  });

  it('keeps a job under maxCases and its expected time under budgetMs', () => {
    const many = packCases(cases(Array<number>(1_000).fill(1)), DEFAULT_BATCH_LIMITS);
    expect(Math.max(...many.map((job) => job.length))).toBe(DEFAULT_BATCH_LIMITS.maxCases);
    expect(many).toHaveLength(50);

    const heavy = packCases(cases(Array<number>(200).fill(200)), DEFAULT_BATCH_LIMITS);
    for (const job of heavy) {
      const ms = job.reduce((sum, c) => sum + (c.expectedMs ?? 0), 0);
      expect(ms).toBeLessThanOrEqual(DEFAULT_BATCH_LIMITS.budgetMs);
    }
    expect(heavy.every((job) => job.length === 2)).toBe(true);
  });

  it('never shares the job of a case that has not run before or is slow', () => {
    const mixed = cases([5, null, 5, 5_000, ...Array<number>(40).fill(5)]);
    const jobs = packCases(mixed, DEFAULT_BATCH_LIMITS);
    expect(names(jobs).filter((job) => job.includes('c1'))).toEqual([['c1']]);
    expect(names(jobs).filter((job) => job.includes('c3'))).toEqual([['c3']]);
    expect(jobs.flat()).toHaveLength(mixed.length);
  });

  it('shares nothing with maxCases 1', () => {
    const jobs = packCases(cases(Array<number>(100).fill(1)), {
      ...DEFAULT_BATCH_LIMITS,
      maxCases: 1,
    });
    expect(jobs).toHaveLength(100);
  });
});
