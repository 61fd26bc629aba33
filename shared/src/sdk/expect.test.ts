import { describe, expect as vitestExpect, it } from 'vitest';
import { AssertionFailedError } from './errors.js';
import { deepEqual, describeValue, expect } from './expect.js';

const failure = (check: () => void): AssertionFailedError => {
  try {
    check();
  } catch (error) {
    vitestExpect(error).toBeInstanceOf(AssertionFailedError);
    return error as AssertionFailedError;
  }
  throw new Error('the check was expected to fail');
};

describe('expect', () => {
  it('passes checks that hold', () => {
    expect(200, 'status').toBe(200);
    expect({ a: [1, { b: 2 }] }).toEqual({ a: [1, { b: 2 }] });
    expect(201).toBeOneOf([200, 201]);
    expect(12).toBeLessThan(13);
    expect(12).toBeLessThanOrEqual(12);
    expect(12).toBeGreaterThan(11);
    expect(12).toBeGreaterThanOrEqual(12);
    expect('hello world').toContain('world');
    expect([{ id: 1 }, { id: 2 }]).toContain({ id: 2 });
    expect('abc-123').toMatch(/\d+$/);
    expect('abc').toMatch('b');
    expect(0).toBeDefined();
    expect('x').toBeTruthy();
    expect(500).not.toBe(200);
    expect([1]).not.toContain(2);
  });

  it('fails with the label, the actual value and what was expected', () => {
    vitestExpect(failure(() => expect(503, 'status').toBe(200)).message).toBe(
      'status (503) was expected to be 200',
    );
    vitestExpect(failure(() => expect('a', 'body').not.toBe('a')).message).toBe(
      'body ("a") was expected not to be "a"',
    );
    vitestExpect(failure(() => expect(900, 'latency').toBeLessThan(500)).message).toContain(
      'to be < 500',
    );
    vitestExpect(failure(() => expect(null).toBeDefined()).errorType).toBe('assertion');
    failure(() => expect('7').toBeLessThan(10));
    failure(() => expect({ a: 1 }).toEqual({ a: 1, b: 2 }));
    failure(() => expect(42).toContain(4));
  });
});

describe('deepEqual', () => {
  it('compares structure, not identity', () => {
    vitestExpect(deepEqual([1, [2]], [1, [2]])).toBe(true);
    vitestExpect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    vitestExpect(deepEqual([1], { 0: 1 })).toBe(false);
    vitestExpect(deepEqual(Number.NaN, Number.NaN)).toBe(true);
  });
});

describe('describeValue', () => {
  it('renders any value briefly', () => {
    vitestExpect(describeValue('x'.repeat(300))).toHaveLength(203);
    vitestExpect(describeValue(undefined)).toBe('undefined');
    vitestExpect(describeValue(() => 1)).toBe('[function]');
    vitestExpect(describeValue(10n)).toBe('10n');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    vitestExpect(describeValue(circular)).toBe('[Object]');
  });
});
