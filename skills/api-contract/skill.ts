import {
  AssertionFailedError,
  JsonObject,
  JsonValue,
  SkillError,
  defineSkill,
  z,
  type HttpRequest,
} from '@webguard/shared';
import { ResponseChecker, type Mismatch } from './check-response.js';
import {
  OPERATION_METHODS,
  loadDocument,
  serverUrl,
  type DocumentOperation,
  type LoadedDocument,
} from './openapi.js';

const ParamValue = z.union([z.string(), z.number(), z.boolean()]);

const OperationCall = z
  .object({
    method: z
      .string()
      .transform((method) => method.toLowerCase())
      .pipe(z.enum(OPERATION_METHODS, 'must be an HTTP method the document can describe'))
      .describe('HTTP method, e.g. GET'),
    path: z
      .string()
      .startsWith('/', 'must be a path of the document, starting with /')
      .describe('the path as the document writes it, e.g. /pets/{id}'),
    params: z
      .record(z.string(), ParamValue)
      .optional()
      .describe('values of the path, query, header and cookie parameters, by name'),
    body: JsonValue.optional().describe('JSON request body'),
    expected_status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .optional()
      .describe('the status this call must answer (default: any 2xx)'),
  })
  .describe('one operation of the document to call');
type OperationCall = z.output<typeof OperationCall>;

const Params = z.object({
  document: z
    .union([
      z.string().min(1),
      JsonObject.refine((value) => 'openapi' in value || 'swagger' in value, {
        message: 'an inline document must have an "openapi" field',
      }),
    ])
    .describe('the OpenAPI 3 document: a file path, an http(s) URL, or the document itself'),
  base_url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .optional()
    .describe("where requests go (default: the document's first server URL)"),
  operations: z
    .array(OperationCall)
    .min(1)
    .optional()
    .describe('operations to call (default: every GET operation without required parameters)'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('headers sent with every request, e.g. authorization'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(600_000)
    .default(30_000)
    .describe('time limit for loading the document and for each request (ms)'),
  fail_on_mismatch: z
    .boolean()
    .default(true)
    .describe('fail the case on any mismatch (true), or only report them in the outputs (false)'),
});
type Params = z.output<typeof Params>;

const labelOf = (operation: Pick<DocumentOperation, 'method' | 'path'>): string =>
  `${operation.method.toUpperCase()} ${operation.path}`;

/** The operations to call with their arguments: the ones asked for, or every simple GET. */
function plan(loaded: LoadedDocument, calls: OperationCall[] | undefined) {
  if (calls === undefined) {
    const simple = loaded.operations.filter(
      (operation) =>
        operation.method === 'get' && !operation.parameters.some((parameter) => parameter.required),
    );
    if (simple.length === 0)
      throw new SkillError(
        'system',
        'the document has no GET operation without required parameters: list the operations to call',
      );
    return simple.map((operation) => ({ operation, call: undefined }));
  }
  return calls.map((call) => {
    const operation = loaded.operations.find(
      (candidate) => candidate.method === call.method && candidate.path === call.path,
    );
    if (!operation) {
      const known = loaded.operations.map(labelOf).join(', ');
      throw new SkillError(
        'system',
        `${labelOf(call)} is not in the document; it has: ${known || 'no operations'}`,
      );
    }
    return { operation, call };
  });
}

function buildRequest(
  base: string,
  operation: DocumentOperation,
  call: OperationCall | undefined,
  params: Params,
): HttpRequest {
  const label = labelOf(operation);
  const values = call?.params ?? {};
  const unknown = Object.keys(values).filter(
    (name) => !operation.parameters.some((parameter) => parameter.name === name),
  );
  if (unknown.length > 0) {
    const declared = operation.parameters.map((parameter) => parameter.name).join(', ');
    throw new SkillError(
      'system',
      `${label} has no parameter ${unknown.join(', ')} (it has: ${declared || 'none'})`,
    );
  }
  const missing = operation.parameters.filter(
    (parameter) => (parameter.required || parameter.in === 'path') && !(parameter.name in values),
  );
  if (missing.length > 0)
    throw new SkillError(
      'system',
      `${label} needs a value for ${missing.map((parameter) => `${parameter.in} parameter ${parameter.name}`).join(', ')}`,
    );

  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept: 'application/json, */*', ...params.headers };
  const cookies: string[] = [];
  let path = operation.path;
  for (const parameter of operation.parameters) {
    const value = values[parameter.name];
    if (value === undefined) continue;
    const text = String(value);
    if (parameter.in === 'path')
      path = path.replaceAll(`{${parameter.name}}`, encodeURIComponent(text));
    else if (parameter.in === 'query') query.append(parameter.name, text);
    else if (parameter.in === 'header') headers[parameter.name] = text;
    else cookies.push(`${parameter.name}=${encodeURIComponent(text)}`);
  }
  if (cookies.length > 0) headers['cookie'] = cookies.join('; ');
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return {
    method: operation.method.toUpperCase(),
    url: `${base.replace(/\/+$/, '')}${path}${search}`,
    headers,
    json: call?.body,
    timeoutMs: params.timeout_ms,
    // A contract describes what the endpoint itself answers, redirects included.
    followRedirects: false,
  };
}

const describeMismatch = (mismatch: Mismatch): string =>
  `${mismatch.operation} ${mismatch.path}: ${mismatch.message}`;

export default defineSkill({
  name: 'api-contract',
  category: 'api',
  version: '1.0.0',
  description:
    'Calls the endpoints an OpenAPI 3 document describes and checks statuses, headers and JSON bodies against it, reporting each mismatch with its JSON path.',
  params: Params,
  async run(ctx, params) {
    const loaded = await ctx.step('load document', () =>
      loadDocument(params.document, params.timeout_ms, ctx.signal),
    );
    const base = serverUrl(loaded, params.base_url);
    const calls = plan(loaded, params.operations);
    const checker = new ResponseChecker(loaded);
    const mismatches: Mismatch[] = [];
    const results: JsonObject[] = [];

    for (const { operation, call } of calls) {
      const label = labelOf(operation);
      const request = buildRequest(base, operation, call, params);
      // A mismatch fails this operation's step and the next one still runs.
      await ctx
        .step(label, async () => {
          const response = await ctx.http.request(request);
          ctx.metric(`response_time ${label}`.slice(0, 100), response.timings.total_ms, 'ms');
          const found = checker.check(operation, label, response, call?.expected_status);
          mismatches.push(...found);
          results.push({
            operation: label,
            url: request.url,
            status: response.status,
            mismatches: found.length,
          });
          if (found.length > 0)
            throw new AssertionFailedError(found.map(describeMismatch).join('; '));
        })
        .catch((error: unknown) => {
          if (!(error instanceof AssertionFailedError)) throw error;
        });
    }

    ctx.metric('operations', calls.length);
    ctx.metric('mismatches', mismatches.length);
    if (mismatches.length > 0) {
      ctx.log.error(`${mismatches.length} mismatches with the OpenAPI document`, {
        mismatches: mismatches.map((mismatch) => ({ ...mismatch })),
      });
      if (params.fail_on_mismatch) {
        const failing = new Set(mismatches.map((mismatch) => mismatch.operation)).size;
        throw new AssertionFailedError(
          `${mismatches.length} mismatches with the OpenAPI document in ${failing} of ${calls.length} operations: ${mismatches.map(describeMismatch).join('; ')}`,
        );
      }
    }
    return {
      base_url: base,
      operations: results,
      mismatches: mismatches.map((mismatch) => ({ ...mismatch })),
    };
  },
});
