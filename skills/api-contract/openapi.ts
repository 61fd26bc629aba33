import $RefParser from '@apidevtools/json-schema-ref-parser';
import { compileErrors, validate } from '@readme/openapi-parser';
import { AssertionFailedError, NetworkError, SkillError } from '@webguard/shared';

/** The parts of an OpenAPI 3 document this skill reads; the rest passes through untouched. */
export interface Schema {
  [keyword: string]: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Header {
  required?: boolean;
  schema?: Schema;
}

export interface MediaType {
  schema?: Schema;
}

export interface Response {
  headers?: Record<string, Header | Ref>;
  content?: Record<string, MediaType>;
}

export interface Operation {
  parameters?: (Parameter | Ref)[];
  requestBody?: Ref | { content?: Record<string, MediaType>; required?: boolean };
  responses?: Record<string, Response | Ref>;
}

interface Ref {
  $ref: string;
}

export interface OpenApiDocument {
  openapi: string;
  servers?: { url: string; variables?: Record<string, { default: string }> }[];
  paths?: Record<string, Record<string, unknown>>;
}

export const OPERATION_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
] as const;
export type OperationMethod = (typeof OPERATION_METHODS)[number];

/** One operation of the document, with its path-level parameters merged in. */
export interface DocumentOperation {
  method: OperationMethod;
  /** The path template as the document writes it, e.g. `/pets/{id}`. */
  path: string;
  /** JSON pointer to the operation object, for validators that compile schemas in place. */
  pointer: string;
  operation: Operation;
  parameters: Parameter[];
}

export interface LoadedDocument {
  document: OpenApiDocument;
  /** The URL it was loaded from, which a relative server URL resolves against. */
  url: string | undefined;
  version: '3.0' | '3.1';
  operations: DocumentOperation[];
  /** What a pointer designates, `$ref`s followed (after bundling, every `$ref` is local). */
  locate(pointer: string): { value: unknown; pointer: string };
}

const isRef = (value: unknown): value is Ref =>
  typeof value === 'object' && value !== null && typeof (value as Ref).$ref === 'string';

const escapePointer = (part: string): string => part.replace(/~/g, '~0').replace(/\//g, '~1');

const unescapePointer = (part: string): string =>
  decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');

const MAX_REF_HOPS = 20;

const splitPointer = (pointer: string): string[] =>
  pointer.slice(1).split('/').slice(1).map(unescapePointer);
/** A JSON pointer as a URI fragment, the form `$ref` takes: `#/paths/~1pets~1%7Bid%7D`. */
export const joinPointer = (parts: readonly string[]): string =>
  `#${parts.map((part) => `/${encodeURIComponent(escapePointer(part))}`).join('')}`;

/**
 * Finds what a JSON pointer designates, following `$ref`s on the way, and returns it with the
 * pointer that reaches it without crossing a `$ref` (the form a JSON Schema validator can walk).
 */
function locator(document: OpenApiDocument) {
  const walk = (parts: readonly string[]): unknown =>
    parts.reduce<unknown>(
      (node, part) =>
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[part]
          : undefined,
      document,
    );
  return function locate(pointer: string): { value: unknown; pointer: string } {
    const parts = splitPointer(pointer);
    let canonical: string[] = [];
    let node: unknown = document;
    for (let index = 0; ; index++) {
      for (let hops = 0; isRef(node); hops++) {
        const ref = node.$ref;
        if (!ref.startsWith('#') || hops > MAX_REF_HOPS)
          throw new SkillError('system', `the document's $ref "${ref}" cannot be followed`);
        canonical = splitPointer(ref);
        node = walk(canonical);
        if (node === undefined)
          throw new SkillError('system', `the document's $ref "${ref}" points at nothing`);
      }
      const part = parts[index];
      if (part === undefined || node === undefined) break;
      node = (node as Record<string, unknown>)[part];
      canonical.push(part);
    }
    return { value: node, pointer: joinPointer(canonical) };
  };
}

function listOperations(
  document: OpenApiDocument,
  locate: LoadedDocument['locate'],
): DocumentOperation[] {
  const operations: DocumentOperation[] = [];
  const parametersAt = (pointer: string): Parameter[] => {
    const list = locate(pointer).value;
    if (!Array.isArray(list)) return [];
    return list.map((_, index) => locate(`${pointer}/${index}`).value as Parameter);
  };
  for (const path of Object.keys(document.paths ?? {})) {
    const itemPointer = locate(joinPointer(['paths', path])).pointer;
    const item = locate(itemPointer).value as Record<string, unknown>;
    const shared = parametersAt(`${itemPointer}/parameters`);
    for (const method of OPERATION_METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      const pointer = `${itemPointer}/${method}`;
      const own = parametersAt(`${pointer}/parameters`);
      // An operation's parameter overrides a path-level one with the same name and location.
      const parameters = [
        ...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)),
        ...own,
      ];
      operations.push({
        method,
        path,
        pointer,
        operation,
        parameters,
      });
    }
  }
  return operations;
}

const reasonOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Fails fast when the case is cancelled; the parser's own fetch has no signal to take. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Loads an OpenAPI 3 document from a file, a URL or an object, pulls its external `$ref`s in
 * (bundle) and checks it against the OpenAPI specification.
 */
export async function loadDocument(
  source: string | Record<string, unknown>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<LoadedDocument> {
  const url = typeof source === 'string' && /^https?:\/\//i.test(source) ? source : undefined;
  const where = typeof source === 'string' ? source : 'the inline document';
  let document: OpenApiDocument;
  try {
    // The parser changes the object it is given; inline documents are copied first.
    const input = typeof source === 'string' ? source : structuredClone(source);
    document = (await abortable(
      $RefParser.bundle(input, {
        // The APIs a test platform checks are often internal: private and loopback addresses
        // are what it is pointed at, not a server-side request forgery.
        resolve: { http: { timeout: timeoutMs, safeUrlResolver: false } },
      }),
      signal,
    )) as unknown as OpenApiDocument;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const reason = reasonOf(error);
    if (url && /fetch|ECONN|ENOTFOUND|timed? ?out|socket/i.test(reason))
      throw new NetworkError(`cannot load the OpenAPI document from ${url}: ${reason}`, {
        cause: error,
      });
    throw new SkillError('system', `cannot load the OpenAPI document ${where}: ${reason}`, {
      cause: error,
    });
  }
  if (typeof document.openapi !== 'string' || !/^3\.[01]\./.test(document.openapi)) {
    const found = (document as { swagger?: string }).swagger ?? document.openapi;
    throw new SkillError(
      'system',
      `${where} is not an OpenAPI 3.0 or 3.1 document (its version is ${JSON.stringify(found ?? null)})`,
    );
  }
  const checked = await validate(structuredClone(document) as never, {
    validate: { errors: { colorize: false } },
  });
  if (!checked.valid) {
    throw new AssertionFailedError(
      `the OpenAPI document ${where} is not valid: ${compileErrors(checked).replace(/\s+/g, ' ').trim()}`,
    );
  }
  const locate = locator(document);
  return {
    document,
    url,
    version: document.openapi.startsWith('3.1') ? '3.1' : '3.0',
    operations: listOperations(document, locate),
    locate,
  };
}

/** The base URL requests go to: `base_url`, else the document's first server. */
export function serverUrl(loaded: LoadedDocument, override: string | undefined): string {
  if (override) return override;
  const server = loaded.document.servers?.[0];
  const raw = (server?.url ?? '/').replace(
    /\{([^}]+)\}/g,
    (whole, name: string) => server?.variables?.[name]?.default ?? whole,
  );
  if (/^https?:\/\//i.test(raw)) return raw;
  if (loaded.url) return new URL(raw, loaded.url).href;
  throw new SkillError(
    'system',
    `the document's server URL "${raw}" is relative and the document was not loaded from a URL: set base_url`,
  );
}
