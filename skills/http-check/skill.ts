import { JSONPath } from 'jsonpath-plus';
import {
  AssertionFailedError,
  JsonValue,
  deepEqual,
  defineSkill,
  describeValue,
  z,
  type HttpResponse,
  type JsonObject,
  type SkillContext,
} from '@webguard/shared';

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const METHODS_WITHOUT_BODY: readonly string[] = ['GET', 'HEAD'];
/** A JSON body up to this size is kept in the outputs, for later cases to read. */
const MAX_OUTPUT_BODY_BYTES = 64 * 1024;

const StatusCode = z.number().int().min(100).max(599);
const StatusRange = z
  .string()
  .trim()
  .regex(/^[1-5]\d\d(\s*-\s*[1-5]\d\d)?$/, 'must be a status like "204" or a range like "200-299"')
  .refine((range) => {
    const [low = 0, high = low] = range.split('-').map(Number);
    return low <= high;
  }, 'the range must go from low to high');

const Regex = z.string().refine((pattern) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

const Assertion = z
  .object({
    path: z
      .string()
      .startsWith('$', 'must be a JSONPath starting with $')
      .describe(
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
type Assertion = z.infer<typeof Assertion>;

const Params = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .describe('URL to request'),
    method: z.enum(HTTP_METHODS).default('GET').describe('HTTP method'),
    headers: z.record(z.string(), z.string()).optional().describe('request headers'),
    body: z.string().optional().describe('raw request body (use json for a JSON body)'),
    json: JsonValue.optional().describe(
      'JSON request body, sent with content-type application/json',
    ),
    expected_status: z
      .union([StatusCode, z.array(StatusCode).min(1), StatusRange])
      .default('200-299')
      .describe('expected status: a code, a list of codes, or a range like "200-299"'),
    max_latency_ms: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('fail when the whole response takes longer (ms)'),
    assertions: z
      .array(Assertion)
      .optional()
      .describe('checks on values of the JSON response body'),
    body_contains: z.string().optional().describe('text the response body must contain'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(30_000)
      .describe('time limit for the request (ms)'),
  })
  .refine((params) => params.body === undefined || params.json === undefined, {
    message: 'give either body or json, not both',
    path: ['json'],
  })
  .refine(
    (params) =>
      !METHODS_WITHOUT_BODY.includes(params.method) ||
      (params.body === undefined && params.json === undefined),
    {
      message: 'GET and HEAD requests cannot have a body',
      path: ['method'],
    },
  );
type Params = z.output<typeof Params>;

function statusMatches(expected: Params['expected_status'], status: number): boolean {
  if (typeof expected === 'number') return status === expected;
  if (Array.isArray(expected)) return expected.includes(status);
  const [low = 0, high = low] = expected.split('-').map(Number);
  return status >= low && status <= high;
}

function describeStatus(expected: Params['expected_status']): string {
  if (Array.isArray(expected)) return `one of ${expected.join(', ')}`;
  return String(expected).replace(/\s+/g, '');
}

/** Evaluates one assertion against the JSON body; the message names the path and what was found. */
function checkAssertion(
  ctx: SkillContext,
  assertion: Assertion,
  body: JsonValue,
  request: string,
): void {
  const matches = JSONPath<unknown[]>({
    path: assertion.path,
    json: body,
    wrap: true,
    eval: 'safe',
  });
  const found = matches.length > 0;
  const value: unknown = matches.length === 1 ? matches[0] : matches;
  const where = `in the response of ${request}`;
  const checksValue =
    assertion.equals !== undefined ||
    assertion.contains !== undefined ||
    assertion.matches !== undefined;

  if (assertion.exists === false) {
    if (found)
      throw new AssertionFailedError(
        `${assertion.path} was expected to match nothing ${where}, found ${describeValue(value)}`,
      );
    return;
  }
  if (!found) {
    throw new AssertionFailedError(`${assertion.path} matched nothing ${where}`);
  }
  if (!checksValue) return;
  if (assertion.equals !== undefined && !deepEqual(value, assertion.equals)) {
    throw new AssertionFailedError(
      `${assertion.path} was expected to equal ${describeValue(assertion.equals)} ${where}, got ${describeValue(value)}`,
    );
  }
  if (assertion.contains !== undefined)
    ctx.expect(value, assertion.path).toContain(assertion.contains);
  if (assertion.matches !== undefined) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    ctx.expect(text, assertion.path).toMatch(new RegExp(assertion.matches));
  }
}

function outputsOf(response: HttpResponse): JsonObject {
  const outputs: JsonObject = {
    status: response.status,
    response_time_ms: response.timings.total_ms,
  };
  const isJson = /\bjson\b/i.test(response.headers['content-type'] ?? '');
  if (isJson && Buffer.byteLength(response.body) <= MAX_OUTPUT_BODY_BYTES) {
    const parsed = JsonValue.safeParse(safeJson(response));
    if (parsed.success) outputs['body_json'] = parsed.data;
  }
  return outputs;
}

function safeJson(response: HttpResponse): unknown {
  try {
    return response.json();
  } catch {
    return undefined;
  }
}

export default defineSkill({
  name: 'http-check',
  category: 'api',
  version: '1.0.0',
  description:
    'Requests a URL and checks the status, latency, body text and JSON values of the response.',
  params: Params,
  async run(ctx, params) {
    const request = `${params.method} ${params.url}`;

    const response = await ctx.step('request', () =>
      ctx.http.request({
        method: params.method,
        url: params.url,
        headers: params.headers,
        body: params.body,
        json: params.json,
        timeoutMs: params.timeout_ms,
      }),
    );
    ctx.metric('response_time', response.timings.total_ms, 'ms');
    ctx.metric('ttfb', response.timings.ttfb_ms, 'ms');
    ctx.metric('response_size', Buffer.byteLength(response.body), 'bytes');
    ctx.log.info(`${request} answered ${response.status}`, {
      status: response.status,
      response_time_ms: response.timings.total_ms,
      final_url: response.url,
    });

    await ctx.step('status', () => {
      if (!statusMatches(params.expected_status, response.status)) {
        throw new AssertionFailedError(
          `expected status ${describeStatus(params.expected_status)}, got ${response.status} from ${request}`,
        );
      }
    });

    const maxLatency = params.max_latency_ms;
    if (maxLatency !== undefined) {
      await ctx.step('latency', () => {
        if (response.timings.total_ms > maxLatency) {
          throw new AssertionFailedError(
            `expected a response within ${maxLatency} ms, ${request} took ${response.timings.total_ms} ms`,
          );
        }
      });
    }

    const expectedText = params.body_contains;
    if (expectedText !== undefined) {
      await ctx.step('body contains', () => {
        if (!response.body.includes(expectedText)) {
          throw new AssertionFailedError(
            `expected the body of ${request} to contain ${describeValue(expectedText)}; it starts with ${describeValue(response.body.slice(0, 200))}`,
          );
        }
      });
    }

    for (const assertion of params.assertions ?? []) {
      // response.json() is JSON.parse output, so it is a JsonValue.
      await ctx.step(`assert ${assertion.path}`, () =>
        checkAssertion(ctx, assertion, response.json() as JsonValue, request),
      );
    }

    return outputsOf(response);
  },
});
