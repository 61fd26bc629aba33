import { JSONPath } from 'jsonpath-plus';
import {
  AssertionFailedError,
  JsonValue,
  deepEqual,
  describeValue,
  z,
  type SkillContext,
} from '@webguard/shared';

/**
 * Params and checks the HTTP skills (http-check, api-flow, load-test) share, so a status range
 * or a JSONPath means the same in each. This folder has no skill.ts: the loader skips it.
 */

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const METHODS_WITHOUT_BODY: readonly string[] = ['GET', 'HEAD'];

export const StatusCode = z.number().int().min(100).max(599);

/** `"204"` or `"200-299"`. */
export const StatusRange = z
  .string()
  .trim()
  .regex(/^[1-5]\d\d(\s*-\s*[1-5]\d\d)?$/, 'must be a status like "204" or a range like "200-299"')
  .refine((range) => {
    const [low = 0, high = low] = range.split('-').map(Number);
    return low <= high;
  }, 'the range must go from low to high');

/** A code, a list of codes, or a range. */
export const ExpectedStatus = z
  .union([StatusCode, z.array(StatusCode).min(1), StatusRange])
  .describe('expected status: a code, a list of codes, or a range like "200-299"');
export type ExpectedStatus = z.output<typeof ExpectedStatus>;

/** A test for statuses, built once (a load test calls it for every response). */
export function statusMatcher(expected: ExpectedStatus): (status: number) => boolean {
  if (typeof expected === 'number') return (status) => status === expected;
  if (Array.isArray(expected)) return (status) => expected.includes(status);
  const [low = 0, high = low] = expected.split('-').map(Number);
  return (status) => status >= low && status <= high;
}

export function statusMatches(expected: ExpectedStatus, status: number): boolean {
  return statusMatcher(expected)(status);
}

export function describeStatus(expected: ExpectedStatus): string {
  if (Array.isArray(expected)) return `one of ${expected.join(', ')}`;
  return String(expected).replace(/\s+/g, '');
}

export const Regex = z.string().refine((pattern) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

export const JsonPathText = z.string().startsWith('$', 'must be a JSONPath starting with $');

/** What a JSONPath selects: one match gives the value, several a list. */
export function selectJsonPath(path: string, body: JsonValue): { found: boolean; value: unknown } {
  const matches = JSONPath<unknown[]>({ path, json: body, wrap: true, eval: 'safe' });
  return { found: matches.length > 0, value: matches.length === 1 ? matches[0] : matches };
}

export const JsonAssertion = z
  .object({
    path: JsonPathText.describe(
      'JSONPath into the JSON body, e.g. $.data.items[0].id (one match gives the value, several a list)',
    ),
    equals: JsonValue.optional().describe('the value must equal this JSON value'),
    contains: JsonValue.optional().describe('the value (a string or a list) must contain this'),
    matches: Regex.optional().describe('the value, as text, must match this regular expression'),
    exists: z
      .boolean()
      .optional()
      .describe('true: the path must match something; false: it must match nothing (default true)'),
  })
  .describe('a check on one value of the JSON response body');
export type JsonAssertion = z.infer<typeof JsonAssertion>;

/** Evaluates one assertion against a JSON body; the message names the path and what was found. */
export function checkJsonAssertion(
  ctx: SkillContext,
  assertion: JsonAssertion,
  body: JsonValue,
  request: string,
): void {
  const { found, value } = selectJsonPath(assertion.path, body);
  const where = `in the response of ${request}`;
  if (assertion.exists === false) {
    if (found)
      throw new AssertionFailedError(
        `${assertion.path} was expected to match nothing ${where}, found ${describeValue(value)}`,
      );
    return;
  }
  if (!found) throw new AssertionFailedError(`${assertion.path} matched nothing ${where}`);
  if (assertion.equals !== undefined && !deepEqual(value, assertion.equals))
    throw new AssertionFailedError(
      `${assertion.path} was expected to equal ${describeValue(assertion.equals)} ${where}, got ${describeValue(value)}`,
    );
  if (assertion.contains !== undefined)
    ctx.expect(value, assertion.path).toContain(assertion.contains);
  if (assertion.matches !== undefined) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    ctx.expect(text, assertion.path).toMatch(new RegExp(assertion.matches));
  }
}

/** A request's body rules: `body` or `json`, not both, and none on GET or HEAD. */
export function withRequestBodyRules<
  T extends z.ZodType<{ method: string; body?: string | undefined; json?: unknown }>,
>(request: T): T {
  return request
    .refine((r) => r.body === undefined || r.json === undefined, {
      message: 'give either body or json, not both',
      path: ['json'],
    })
    .refine(
      (r) =>
        !METHODS_WITHOUT_BODY.includes(r.method) || (r.body === undefined && r.json === undefined),
      { message: 'GET and HEAD requests cannot have a body', path: ['method'] },
    );
}
