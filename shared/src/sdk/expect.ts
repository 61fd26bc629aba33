import { AssertionFailedError } from './errors.js';

/** Matchers a skill uses through `ctx.expect(value, label)`; each failure names the label. */
export interface Expectation<T> {
  toBe(expected: T): void;
  toEqual(expected: unknown): void;
  toBeOneOf(expected: readonly T[]): void;
  toBeTruthy(): void;
  toBeDefined(): void;
  toBeLessThan(limit: number): void;
  toBeLessThanOrEqual(limit: number): void;
  toBeGreaterThan(limit: number): void;
  toBeGreaterThanOrEqual(limit: number): void;
  toContain(item: unknown): void;
  toMatch(pattern: RegExp | string): void;
  readonly not: Omit<Expectation<T>, 'not'>;
}

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** A short, readable rendering of any value for failure messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return '[function]';
  if (value === undefined) return 'undefined';
  try {
    return clip(JSON.stringify(value));
  } catch {
    // Circular structures cannot be serialized; name the kind of object instead.
    return `[${Object.prototype.toString.call(value).slice(8, -1)}]`;
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.prototype.hasOwnProperty.call(b, key) &&
      deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

function contains(haystack: unknown, item: unknown): boolean {
  if (typeof haystack === 'string') return typeof item === 'string' && haystack.includes(item);
  if (Array.isArray(haystack)) return haystack.some((element) => deepEqual(element, item));
  return false;
}

type Check = { pass: boolean; message: string };

function makeExpectation<T>(actual: T, label: string, negated: boolean): Expectation<T> {
  const subject = `${label} (${describeValue(actual)})`;
  const verdict = (check: Check): void => {
    if (check.pass === negated) {
      throw new AssertionFailedError(
        `${subject} ${negated ? 'was expected not to ' : 'was expected to '}${check.message}`,
      );
    }
  };
  const numeric = (limit: number, op: string, test: (n: number) => boolean): Check => ({
    pass: typeof actual === 'number' && test(actual),
    message: `be ${op} ${limit}`,
  });
  const expectation: Omit<Expectation<T>, 'not'> = {
    toBe: (expected) =>
      verdict({ pass: Object.is(actual, expected), message: `be ${describeValue(expected)}` }),
    toEqual: (expected) =>
      verdict({ pass: deepEqual(actual, expected), message: `equal ${describeValue(expected)}` }),
    toBeOneOf: (expected) =>
      verdict({
        pass: expected.some((e) => Object.is(e, actual)),
        message: `be one of ${describeValue(expected)}`,
      }),
    toBeTruthy: () => verdict({ pass: Boolean(actual), message: 'be truthy' }),
    toBeDefined: () =>
      verdict({ pass: actual !== undefined && actual !== null, message: 'be defined' }),
    toBeLessThan: (limit) => verdict(numeric(limit, '<', (n) => n < limit)),
    toBeLessThanOrEqual: (limit) => verdict(numeric(limit, '<=', (n) => n <= limit)),
    toBeGreaterThan: (limit) => verdict(numeric(limit, '>', (n) => n > limit)),
    toBeGreaterThanOrEqual: (limit) => verdict(numeric(limit, '>=', (n) => n >= limit)),
    toContain: (item) =>
      verdict({ pass: contains(actual, item), message: `contain ${describeValue(item)}` }),
    toMatch: (pattern) =>
      verdict({
        pass:
          typeof actual === 'string' &&
          (typeof pattern === 'string' ? actual.includes(pattern) : pattern.test(actual)),
        message: `match ${String(pattern)}`,
      }),
  };
  return negated
    ? (expectation as Expectation<T>)
    : Object.assign(expectation, { not: makeExpectation(actual, label, true) });
}

/** Starts an expectation about `actual`; `label` names the value in the failure message. */
export function expect<T>(actual: T, label = 'value'): Expectation<T> {
  return makeExpectation(actual, label, false);
}
