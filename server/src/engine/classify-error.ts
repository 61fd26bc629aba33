import { ERROR_TYPES, SkillError, type ErrorType, type ResultStatus } from '@webguard/shared';

/** How a thrown value ends a case. */
export interface ErrorClassification {
  errorType: ErrorType;
  status: Extract<ResultStatus, 'failed' | 'error' | 'timeout'>;
  message: string;
  /** Kept where it helps a person find the failing line: assertion and system errors. */
  stack: string | null;
}

/**
 * A check that did not hold and a target that could not be reached (down, DNS, TLS) are both
 * the system under test failing, so both are `failed`; error_type tells them apart. `error` is
 * kept for a skill or WebGuard itself breaking, which is not the target's fault.
 */
const STATUS_BY_ERROR_TYPE = {
  assertion: 'failed',
  timeout: 'timeout',
  network: 'failed',
  system: 'error',
} as const satisfies Record<ErrorType, ErrorClassification['status']>;

export function statusForErrorType(errorType: ErrorType): ErrorClassification['status'] {
  return STATUS_BY_ERROR_TYPE[errorType];
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'EPROTO',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_PRX_TLS',
  // TLS verification failures reported by node:tls.
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** Code families: OpenSSL (`ERR_SSL_…`), node:tls (`ERR_TLS_…`) and llhttp parse errors (`HPE_…`). */
const NETWORK_CODE_PREFIXES = ['ERR_SSL_', 'ERR_TLS_', 'HPE_'];

/** undici gave up waiting for headers or body: the target was too slow, not unreachable. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const MAX_CAUSE_DEPTH = 8;

/** The error and its `cause`s, outermost first; stops at non-objects and cycles. */
function causeChain(error: unknown): object[] {
  const chain: object[] = [];
  let current: unknown = error;
  while (
    typeof current === 'object' &&
    current !== null &&
    !chain.includes(current) &&
    chain.length < MAX_CAUSE_DEPTH
  ) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function stringProperty(value: object, key: string): string | undefined {
  const property = (value as Record<string, unknown>)[key];
  return typeof property === 'string' ? property : undefined;
}

function isNetworkCode(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (NETWORK_CODES.has(code) || NETWORK_CODE_PREFIXES.some((prefix) => code.startsWith(prefix)))
  );
}

/** Also recognises a SkillError from another copy of the SDK (a skill that bundled its own). */
function skillErrorType(error: object): ErrorType | undefined {
  if (error instanceof SkillError) return error.errorType;
  const errorType = (error as { errorType?: unknown }).errorType;
  return error instanceof Error && ERROR_TYPES.includes(errorType as ErrorType)
    ? (errorType as ErrorType)
    : undefined;
}

/**
 * Joins the messages of an error and its causes, skipping ones already contained, so
 * "fetch failed" becomes "fetch failed: connect ECONNREFUSED 127.0.0.1:9".
 */
function describeChain(chain: object[]): string {
  const parts: string[] = [];
  for (const link of chain) {
    const message = stringProperty(link, 'message')?.trim();
    if (message && !parts.some((part) => part.includes(message))) parts.push(message);
  }
  return parts.join(': ');
}

function describeNonError(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Maps anything a skill threw to the error type, result status and message kept for the case. */
export function classifyError(error: unknown): ErrorClassification {
  if (!(error instanceof Error)) {
    const message = `skill threw a non-Error value: ${describeNonError(error)}`;
    return { errorType: 'system', status: 'error', message, stack: null };
  }
  const chain = causeChain(error);
  const message = describeChain(chain) || error.name;
  const stack = error.stack ?? null;
  const classified = (errorType: ErrorType, keepStack: boolean): ErrorClassification => ({
    errorType,
    status: statusForErrorType(errorType),
    message,
    stack: keepStack ? stack : null,
  });

  const declared = skillErrorType(error);
  if (declared) return classified(declared, declared === 'assertion' || declared === 'system');

  for (const link of chain) {
    const code = stringProperty(link, 'code');
    if (isNetworkCode(code)) return classified('network', false);
    if (code !== undefined && TIMEOUT_CODES.has(code)) return classified('timeout', false);
  }
  if (stringProperty(error, 'code') === 'ERR_ASSERTION' || error.name === 'AssertionError') {
    return classified('assertion', true);
  }
  // Aborts reach a skill only through the case signal, whose deadline is the usual reason.
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return classified('timeout', false);
  return classified('system', true);
}
