// Types only: shared stays free of Playwright at run time (the import is erased), while browser
// skills get the real Page and BrowserContext API with its documentation.
import type { BrowserContext, Page } from 'playwright-core';
import type { JsonObject, JsonValue } from '../schemas/common.js';
import type { LogEntry } from '../schemas/result.js';
import type { Expectation } from './expect.js';

export type LogLevel = LogEntry['level'];

/** Structured log lines, kept with the case's result and streamed live. */
export interface SkillLogger {
  debug(message: string, data?: JsonObject): void;
  info(message: string, data?: JsonObject): void;
  warn(message: string, data?: JsonObject): void;
  error(message: string, data?: JsonObject): void;
}

export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  /** Raw body; use `json` instead to send JSON with its content type. */
  body?: string;
  json?: JsonValue;
  /** Per-request limit; the case's own timeout applies as well. */
  timeoutMs?: number;
  /** Follow 3xx responses (default true, at most 10 hops). */
  followRedirects?: boolean;
}

export interface HttpTimings {
  /** Time to the first byte of the response headers. */
  ttfb_ms: number;
  /** Time until the whole body was read. */
  total_ms: number;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON; throws an assertion error naming the URL if it is not JSON. */
  json(): unknown;
  timings: HttpTimings;
}

/** An HTTP client whose failures to connect surface as `network` errors and honour cancel. */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
}

/** What a skill's `run` receives besides its params. */
export interface SkillContext {
  readonly log: SkillLogger;
  /** Runs `fn` as a named, timed step; a throw marks the step failed and propagates. */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Checks a value; a failed check ends the case `failed` with error_type `assertion`. */
  expect<T>(actual: T, label?: string): Expectation<T>;
  /** Records a measurement (kept as a `test_metrics` row). */
  metric(name: string, value: number, unit?: string): void;
  /** Aborted when the case times out or is cancelled; pass it to anything that waits. */
  readonly signal: AbortSignal;
  readonly http: HttpClient;
  /** Identifies the run, for logs and external systems; absent in local runs. */
  readonly run: { readonly executionId: number | null; readonly caseName: string };
  /** Browser skills only: a Playwright page in a fresh BrowserContext, closed after the case. */
  readonly page?: Page;
  /** Browser skills only: the context `page` lives in (its own cookies, storage and pages). */
  readonly browserContext?: BrowserContext;
  /**
   * Browser skills only: how the worker launches its Chromium, for tools that launch their own
   * browser on the same build (e.g. a `@playwright/test` run).
   */
  readonly browserLaunch?: {
    readonly executablePath: string;
    readonly args: readonly string[];
    readonly headless: boolean;
  };
  /** Browser skills only: keeps a screenshot of `page` as an artifact of the case. */
  screenshot(name: string): Promise<void>;
  /**
   * Keeps `body` as a file of the case's result (an artifact), e.g. a report or a response.
   * Images are kept as screenshots, videos as videos and `trace*.zip` files as Playwright traces.
   */
  attach(name: string, body: string | Uint8Array, contentType: string): Promise<void>;
}
