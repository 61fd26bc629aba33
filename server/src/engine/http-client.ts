import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import {
  AssertionFailedError,
  NetworkError,
  SkillError,
  TimeoutError,
  describeValue,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
} from '@webguard/shared';
import { classifyError } from './classify-error.js';
import { timerDelay } from './timer-delay.js';

export interface HttpClientOptions {
  /** The case's signal: aborting it ends every request the case has in flight. */
  signal: AbortSignal;
  /** Largest response body read into memory. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Limit for a request that sets no `timeoutMs`. Default 30 000 ms. */
  defaultTimeoutMs?: number;
  /** Sent unless the request sets its own `user-agent`. Default `WebGuard`. */
  userAgent?: string;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const MAX_REDIRECTS = 10;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Not forwarded to another origin on a redirect, as browsers and undici do. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length'];

/** What is being sent right now; changes as redirects are followed. */
interface Hop {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
}

const describeHop = (hop: Hop): string => `${hop.method} ${hop.url.href}`;

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function firstHop(input: HttpRequest, userAgent: string): Hop {
  const headers: Record<string, string> = {
    'user-agent': userAgent,
    ...lowerCaseKeys(input.headers),
  };
  let body = input.body;
  if (input.json !== undefined) {
    body = JSON.stringify(input.json);
    headers['content-type'] ??= 'application/json';
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new SkillError('system', `cannot request ${describeValue(input.url)}: not a valid URL`);
  }
  return { method: (input.method ?? 'GET').toUpperCase(), url, headers, body };
}

/** The request to send after a redirect, following the rules browsers apply. */
function nextHop(hop: Hop, status: number, location: string): Hop {
  const url = new URL(location, hop.url);
  const headers = { ...hop.headers };
  if (url.origin !== hop.url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  const becomesGet =
    (status === 303 && hop.method !== 'HEAD') ||
    ((status === 301 || status === 302) && hop.method === 'POST');
  if (!becomesGet) return { ...hop, url, headers };
  for (const name of BODY_HEADERS) delete headers[name];
  return { method: 'GET', url, headers, body: undefined };
}

/** Drops a body that will not be read; undici reports that as an abort nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readBody(
  response: Dispatcher.ResponseData,
  hop: Hop,
  maxBytes: number,
): Promise<string> {
  const tooLarge = () =>
    new SkillError(
      'system',
      `the response body of ${describeHop(hop)} is larger than ${formatBytes(maxBytes)}, the client's limit`,
    );
  const declaredLength = Number(response.headers['content-length']);
  if (declaredLength > maxBytes) {
    discard(response.body);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge(); // leaving the loop destroys the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function buildResponse(
  hop: Hop,
  response: Dispatcher.ResponseData,
  body: string,
  ttfbMs: number,
  totalMs: number,
): HttpResponse {
  let parsed: { value: unknown } | undefined;
  return {
    url: hop.url.href,
    status: response.statusCode,
    headers: flattenHeaders(response.headers),
    body,
    timings: { ttfb_ms: ttfbMs, total_ms: totalMs },
    json() {
      if (!parsed) {
        try {
          parsed = { value: JSON.parse(body) };
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          const start =
            body.length === 0
              ? 'the body is empty'
              : `the body starts with ${describeValue(body.slice(0, 80))}`;
          throw new AssertionFailedError(
            `the response of ${describeHop(hop)} is not JSON (${reason}); ${start}`,
          );
        }
      }
      return parsed.value;
    },
  };
}

/**
 * Gives a failure a message that names the request: an abort keeps the reason it was aborted
 * with (deadline, cancel, per-request timeout); a connection failure becomes a NetworkError.
 */
function explainFailure(error: unknown, hop: Hop, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (error instanceof SkillError) return error;
  const { errorType, message } = classifyError(error);
  const where = `(${describeHop(hop)})`;
  if (errorType === 'network') return new NetworkError(`${message} ${where}`, { cause: error });
  if (errorType === 'timeout') return new TimeoutError(`${message} ${where}`, { cause: error });
  return new SkillError('system', `${describeHop(hop)} failed: ${message}`, { cause: error });
}

async function exchange(
  input: HttpRequest,
  options: Required<HttpClientOptions>,
  signal: AbortSignal,
  current: { hop: Hop },
): Promise<HttpResponse> {
  const followRedirects = input.followRedirects ?? true;
  const startedAt = performance.now();
  for (let redirects = 0; ; redirects++) {
    const { hop } = current;
    const response = await request(hop.url, {
      method: hop.method,
      headers: hop.headers,
      body: hop.body,
      signal,
    });
    const location = response.headers['location'];
    if (
      followRedirects &&
      REDIRECT_STATUSES.has(response.statusCode) &&
      typeof location === 'string'
    ) {
      await response.body.dump();
      if (redirects === MAX_REDIRECTS) {
        throw new NetworkError(
          `${describeHop(hop)} redirected more than ${MAX_REDIRECTS} times (started at ${input.url})`,
        );
      }
      current.hop = nextHop(hop, response.statusCode, location);
      continue;
    }
    const ttfbMs = performance.now() - startedAt;
    const body = await readBody(response, hop, options.maxBodyBytes);
    return buildResponse(
      hop,
      response,
      body,
      Math.round(ttfbMs),
      Math.round(performance.now() - startedAt),
    );
  }
}

/** The HTTP client a case gets as `ctx.http`, built on undici. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const settings: Required<HttpClientOptions> = {
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    defaultTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    userAgent: 'WebGuard',
    ...options,
  };
  return {
    async request(input) {
      if (settings.signal.aborted) throw settings.signal.reason;
      const current = { hop: firstHop(input, settings.userAgent) };
      const timeoutMs = input.timeoutMs ?? settings.defaultTimeoutMs;
      // One controller for the whole exchange, redirects included: either limit ends it.
      const controller = new AbortController();
      const onCaseAbort = () => controller.abort(settings.signal.reason);
      settings.signal.addEventListener('abort', onCaseAbort, { once: true });
      const timer = setTimeout(() => {
        const message = `${describeHop(current.hop)} got no complete response within ${timeoutMs} ms`;
        controller.abort(new TimeoutError(message));
      }, timerDelay(timeoutMs));
      try {
        return await exchange(input, settings, controller.signal, current);
      } catch (error) {
        throw explainFailure(error, current.hop, controller.signal);
      } finally {
        clearTimeout(timer);
        settings.signal.removeEventListener('abort', onCaseAbort);
      }
    },
  };
}
