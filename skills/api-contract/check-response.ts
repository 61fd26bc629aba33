import { Ajv2020, type ErrorObject, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { describeValue, type HttpResponse } from '@webguard/shared';
import {
  joinPointer,
  type DocumentOperation,
  type Header,
  type LoadedDocument,
  type Response,
  type Schema,
} from './openapi.js';

/** One way a response differs from the document. */
export interface Mismatch {
  /** `GET /pets/{id}` */
  operation: string;
  /** `status`, `header x-rate-limit`, or a JSONPath into the body such as `$.items[0].id`. */
  path: string;
  message: string;
}

// CommonJS modules whose default export TypeScript sees as `.default` under NodeNext.
const Ajv04 = ajvDraft04.default;
const addFormats = ajvFormats.default;
type Validator = Pick<Ajv2020, 'compile' | 'addFormat' | 'addSchema'>;

/** The document is registered under this id; schemas are compiled as `$ref`s into it. */
const DOCUMENT_ID = 'openapi.json';

const INT32 = 2 ** 31;
/** Formats OpenAPI defines on top of JSON Schema's. */
const OPENAPI_FORMATS = {
  int32: {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32,
  },
  int64: { type: 'number', validate: (n: number) => Number.isInteger(n) },
  float: { type: 'number', validate: () => true },
  double: { type: 'number', validate: () => true },
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  binary: true,
  password: true,
} as const;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `/items/0/id` (an ajv instancePath) → `$.items[0].id`. */
export function toJsonPath(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return `$${parts
    .map((part) =>
      /^\d+$/.test(part)
        ? `[${part}]`
        : IDENTIFIER.test(part)
          ? `.${part}`
          : `[${JSON.stringify(part)}]`,
    )
    .join('')}`;
}

function valueAt(data: unknown, instancePath: string): unknown {
  return instancePath
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (node, part) =>
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
          : undefined,
      data,
    );
}

/** One line per schema error, naming the JSONPath and what was there. */
function describeErrors(errors: ErrorObject[], data: unknown): { path: string; message: string }[] {
  return errors.map((error) => {
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required')
      return {
        path: toJsonPath(error.instancePath, String(params['missingProperty'])),
        message: 'is required but missing',
      };
    if (error.keyword === 'additionalProperties')
      return {
        path: toJsonPath(error.instancePath, String(params['additionalProperty'])),
        message: 'is not allowed by the schema (additionalProperties)',
      };
    const allowed = error.keyword === 'enum' ? ` ${describeValue(params['allowedValues'])}` : '';
    return {
      path: toJsonPath(error.instancePath),
      message: `${error.message ?? error.keyword}${allowed}, got ${describeValue(valueAt(data, error.instancePath))}`,
    };
  });
}

const mediaTypeOf = (contentType: string): string =>
  (contentType.split(';')[0] ?? '').trim().toLowerCase();

/** The declared media type a response's content type falls under, wildcards included. */
function matchMediaType(declared: string[], contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const actual = mediaTypeOf(contentType);
  const [major] = actual.split('/');
  return (
    declared.find((type) => mediaTypeOf(type) === actual) ??
    declared.find((type) => mediaTypeOf(type) === `${major}/*`) ??
    declared.find((type) => mediaTypeOf(type) === '*/*')
  );
}

const isJsonMediaType = (type: string): boolean => /[/+]json$/.test(mediaTypeOf(type));

/** Header values are text; a schema asking for numbers, booleans or lists gets them converted. */
function headerValue(raw: string, schema: Schema | undefined): unknown {
  const type = schema?.['type'];
  if ((type === 'integer' || type === 'number') && raw.trim() !== '' && !Number.isNaN(Number(raw)))
    return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if (type === 'array') return raw.split(',').map((item) => item.trim());
  return raw;
}

/** Validates responses against one loaded document; schemas compile once each. */
export class ResponseChecker {
  private readonly ajv: Validator;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly loaded: LoadedDocument) {
    // strict: false lets OpenAPI's own keywords (example, xml, discriminator…) through.
    const options: Options = {
      allErrors: true,
      strict: false,
      logger: false,
      validateSchema: false,
    };
    const ajv = loaded.version === '3.1' ? new Ajv2020(options) : new Ajv04(options);
    addFormats(ajv);
    for (const [name, format] of Object.entries(OPENAPI_FORMATS)) ajv.addFormat(name, format);
    this.ajv = ajv;
    this.ajv.addSchema(loaded.document, DOCUMENT_ID);
  }

  private validator(pointer: string): ValidateFunction {
    const cached = this.compiled.get(pointer);
    if (cached) return cached;
    const validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}${pointer}` });
    this.compiled.set(pointer, validate);
    return validate;
  }

  private validate(pointer: string, data: unknown): { path: string; message: string }[] {
    const validate = this.validator(pointer);
    return validate(data) ? [] : describeErrors(validate.errors ?? [], data);
  }

  /** Every way `response` differs from what the document declares for `operation`. */
  check(
    operation: DocumentOperation,
    label: string,
    response: HttpResponse,
    expectedStatus: number | undefined,
  ): Mismatch[] {
    const mismatches: Mismatch[] = [];
    const add = (path: string, message: string) =>
      mismatches.push({ operation: label, path, message });
    const { status } = response;

    // 1. The status must be the expected one and declared (exactly, as a range, or by default).
    if (expectedStatus === undefined ? status < 200 || status > 299 : status !== expectedStatus)
      add('status', `expected ${expectedStatus ?? '2xx'}, got ${status}`);
    const declared = Object.keys(operation.operation.responses ?? {});
    const code = [
      String(status),
      `${Math.floor(status / 100)}XX`,
      `${Math.floor(status / 100)}xx`,
      'default',
    ].find((candidate) => declared.includes(candidate));
    if (code === undefined) {
      add('status', `${status} is not declared (declared: ${declared.join(', ') || 'none'})`);
      return mismatches;
    }
    const located = this.loaded.locate(
      `${operation.pointer}/responses/${encodeURIComponent(code)}`,
    );
    const declaredResponse = located.value as Response;

    // 2. Declared headers: required ones present, every present one valid.
    for (const name of Object.keys(declaredResponse.headers ?? {})) {
      if (name.toLowerCase() === 'content-type') continue; // OpenAPI ignores it here
      const header = this.loaded.locate(
        `${located.pointer}${joinPointer(['headers', name]).slice(1)}`,
      );
      const definition = header.value as Header;
      const raw = response.headers[name.toLowerCase()];
      if (raw === undefined) {
        if (definition.required) add(`header ${name}`, 'is required but missing');
        continue;
      }
      if (definition.schema === undefined) continue;
      for (const error of this.validate(
        `${header.pointer}/schema`,
        headerValue(raw, definition.schema),
      ))
        add(`header ${name}`, error.message);
    }

    // 3. The body: a declared media type, and for JSON, valid against its schema.
    const content = declaredResponse.content ?? {};
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0) return mismatches;
    const contentType = response.headers['content-type'];
    const mediaType = matchMediaType(mediaTypes, contentType);
    if (mediaType === undefined) {
      add(
        'header content-type',
        `expected ${mediaTypes.join(' or ')}, got ${contentType === undefined ? 'none' : describeValue(contentType)}`,
      );
      return mismatches;
    }
    if (!isJsonMediaType(mediaType) || content[mediaType]?.schema === undefined) return mismatches;
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      add('$', `the body is not JSON; it starts with ${describeValue(response.body.slice(0, 80))}`);
      return mismatches;
    }
    const schemaPointer = `${located.pointer}${joinPointer(['content', mediaType, 'schema']).slice(1)}`;
    for (const error of this.validate(schemaPointer, body)) add(error.path, error.message);
    return mismatches;
  }
}
