import {
  AssertionFailedError,
  JsonValue,
  defineSkill,
  z,
  type HttpResponse,
  type JsonObject,
} from '@webguard/shared';
import {
  ExpectedStatus,
  HTTP_METHODS,
  JsonAssertion,
  JsonPathText,
  checkJsonAssertion,
  describeStatus,
  selectJsonPath,
  statusMatches,
  withRequestBodyRules,
} from '../lib/http.js';
import { NAME_PATTERN, fillJson, fillText, placeholdersIn } from './placeholders.js';

const Capture = z
  .object({
    name: z
      .string()
      .regex(NAME_PATTERN, 'must be a name of letters, digits, _ and -, e.g. user_id')
      .describe('the placeholder later requests use: {{name}}'),
    json_path: JsonPathText.optional().describe('take it from the JSON body, e.g. $.id'),
    header: z
      .string()
      .min(1)
      .optional()
      .describe('take it from this response header, e.g. location'),
  })
  .refine((capture) => (capture.json_path === undefined) !== (capture.header === undefined), {
    message: 'give either json_path or header',
    path: ['json_path'],
  })
  .describe('a value of the response kept for later requests');

const Step = withRequestBodyRules(
  z.object({
    name: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('shown in the run view (default: method and URL)'),
    method: z.enum(HTTP_METHODS).default('GET').describe('HTTP method'),
    url: z
      .string()
      .regex(/^(https?:\/\/|\{\{)/, 'must be an http(s) URL or start with a {{placeholder}}')
      .describe('URL to request; may use {{name}} placeholders'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe('request headers; values may use {{name}} placeholders'),
    body: z.string().optional().describe('raw request body; may use {{name}} placeholders'),
    json: JsonValue.optional().describe(
      'JSON request body; a string that is only "{{name}}" takes the captured value as is',
    ),
    expected_status: ExpectedStatus.default('200-299'),
    assertions: z
      .array(JsonAssertion)
      .optional()
      .describe('checks on values of the JSON response body'),
    captures: z.array(Capture).optional().describe('values to keep for later requests'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(30_000)
      .describe('time limit for the request (ms)'),
  }),
).describe('one request of the flow');
type Step = z.output<typeof Step>;

const Params = z
  .object({
    variables: z
      .record(
        z.string().regex(NAME_PATTERN, 'must be a name of letters, digits, _ and -'),
        JsonValue,
      )
      .default({})
      .describe('starting values for {{name}} placeholders, e.g. base_url'),
    steps: z
      .array(Step)
      .min(1, 'give at least one step')
      .max(100)
      .describe('the requests, in order'),
  })
  .superRefine((params, ctx) => {
    // Every placeholder must be known by the time its step runs: a typo fails here, not mid-flow.
    const known = new Set(Object.keys(params.variables));
    params.steps.forEach((step, index) => {
      const fields: [string, JsonValue | undefined][] = [
        ['url', step.url],
        ['headers', step.headers ?? {}],
        ['body', step.body],
        ['json', step.json],
      ];
      for (const [field, value] of fields) {
        for (const name of new Set(placeholdersIn(value))) {
          if (!known.has(name))
            ctx.addIssue({
              code: 'custom',
              path: ['steps', index, field],
              message: `{{${name}}} is neither in variables nor captured by an earlier step`,
            });
        }
      }
      for (const capture of step.captures ?? []) known.add(capture.name);
    });
  });

function capture(
  response: HttpResponse,
  rule: NonNullable<Step['captures']>[number],
  request: string,
): JsonValue {
  if (rule.header !== undefined) {
    const value = response.headers[rule.header.toLowerCase()];
    if (value === undefined)
      throw new AssertionFailedError(
        `capture ${rule.name}: the response of ${request} has no ${rule.header} header`,
      );
    return value;
  }
  const path = rule.json_path ?? '$';
  const { found, value } = selectJsonPath(path, response.json() as JsonValue);
  if (!found)
    throw new AssertionFailedError(
      `capture ${rule.name}: ${path} matched nothing in the response of ${request}`,
    );
  return value as JsonValue;
}

export default defineSkill({
  name: 'api-flow',
  category: 'api',
  version: '1.0.0',
  description:
    'Runs a sequence of HTTP requests (create → read → update → delete), capturing values from responses for later requests and checking each status and body.',
  params: Params,
  async run(ctx, params) {
    const values: Record<string, JsonValue> = { ...params.variables };
    const captured: JsonObject = {};
    const results: JsonObject[] = [];
    let total = 0;

    for (const [index, step] of params.steps.entries()) {
      const url = fillText(step.url, values);
      const request = `${step.method} ${url}`;
      const name = step.name ?? `${step.method} ${step.url}`;
      await ctx.step(name, async () => {
        const response = await ctx.http.request({
          method: step.method,
          url,
          headers: Object.fromEntries(
            Object.entries(step.headers ?? {}).map(([header, value]) => [
              header,
              fillText(value, values),
            ]),
          ),
          body: step.body === undefined ? undefined : fillText(step.body, values),
          json: step.json === undefined ? undefined : fillJson(step.json, values),
          timeoutMs: step.timeout_ms,
        });
        total += response.timings.total_ms;
        ctx.metric(`response_time ${name}`.slice(0, 100), response.timings.total_ms, 'ms');
        results.push({
          step: index + 1,
          name,
          status: response.status,
          response_time_ms: response.timings.total_ms,
        });
        if (!statusMatches(step.expected_status, response.status))
          throw new AssertionFailedError(
            `step ${index + 1} (${name}): expected status ${describeStatus(step.expected_status)}, got ${response.status} from ${request}`,
          );
        for (const assertion of step.assertions ?? [])
          checkJsonAssertion(ctx, assertion, response.json() as JsonValue, request);
        for (const rule of step.captures ?? []) {
          const value = capture(response, rule, request);
          values[rule.name] = value;
          captured[rule.name] = value;
        }
      });
    }

    ctx.metric('requests', params.steps.length);
    ctx.metric('total_response_time', total, 'ms');
    ctx.log.info(`flow of ${params.steps.length} requests passed`, { captured });
    return { captured, steps: results };
  },
});
