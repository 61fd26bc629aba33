import {
  AssertionFailedError,
  JsonValue,
  defineSkill,
  describeValue,
  z,
  type HttpResponse,
  type JsonObject,
} from '@webguard/shared';
import {
  ExpectedStatus,
  HTTP_METHODS,
  JsonAssertion,
  checkJsonAssertion,
  describeStatus,
  statusMatches,
  withRequestBodyRules,
} from '../lib/http.js';

/** A JSON body up to this size is kept in the outputs, for later cases to read. */
const MAX_OUTPUT_BODY_BYTES = 64 * 1024;

const Params = withRequestBodyRules(
  z.object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .describe('URL to request'),
    method: z.enum(HTTP_METHODS).default('GET').describe('HTTP method'),
    headers: z.record(z.string(), z.string()).optional().describe('request headers'),
    body: z.string().optional().describe('raw request body (use json for a JSON body)'),
    json: JsonValue.optional().describe(
      'JSON request body, sent with content-type application/json',
    ),
    expected_status: ExpectedStatus.default('200-299'),
    max_latency_ms: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('fail when the whole response takes longer (ms)'),
    assertions: z
      .array(JsonAssertion)
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
  }),
);
type Params = z.output<typeof Params>;

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
        checkJsonAssertion(ctx, assertion, response.json() as JsonValue, request),
      );
    }

    return outputsOf(response);
  },
});
