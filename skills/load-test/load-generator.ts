import { performance } from 'node:perf_hooks';
import { build, type Histogram } from 'hdr-histogram-js';
import { Agent, type Dispatcher } from 'undici';

export interface LoadTarget {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Share of requests relative to the other targets. */
  weight: number;
}

export interface LoadPlan {
  targets: LoadTarget[];
  /** `concurrency`: a closed loop of in-flight requests; `rate`: requests started on a clock. */
  mode: 'concurrency' | 'rate';
  /** Connections per origin. */
  connections: number;
  /** Requests sent on one connection before its first answer arrives. */
  pipelining: number;
  /** Rate mode: requests started per second at full load. */
  rate: number;
  /** Rate mode: a request due while this many are in flight is dropped, not queued. */
  maxInFlight: number;
  durationMs: number;
  rampUpMs: number;
  /** Longest wait for the response headers, and between two body chunks. */
  timeoutMs: number;
  isSuccess(status: number): boolean;
  signal: AbortSignal;
}

export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface TargetResult {
  url: string;
  method: string;
  requests: number;
  errors: number;
  latency_ms: LatencySummary | null;
}

export interface LoadResult {
  /** Time the load ran, ramp-up included. */
  elapsedMs: number;
  /** Requests that ended (a response or a failure). */
  requests: number;
  /** Requests that ended before the load stopped: the basis of `rps`. */
  requestsInWindow: number;
  /** Unexpected statuses plus requests that got no response. */
  errors: number;
  /** Rate mode: requests not sent because `maxInFlight` were already waiting. */
  dropped: number;
  bytesReceived: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Requests that got no response, by error code. */
  failures: Record<string, number>;
  latency: LatencySummary | null;
  targets: TargetResult[];
}

/** Microsecond resolution up to an hour keeps p99 exact to 3 significant digits. */
const newHistogram = (): Histogram =>
  build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });

const round2 = (value: number): number => Math.round(value * 100) / 100;

function summarize(histogram: Histogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  const ms = (micros: number) => round2(micros / 1000);
  return {
    min: ms(histogram.minNonZeroValue),
    mean: ms(histogram.mean),
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
  };
}

/** After the load stops, in-flight requests get this long to finish before they are cut off. */
const MAX_DRAIN_MS = 5_000;
const RAMP_TICK_MS = 50;
const RATE_TICK_MS = 5;

class TargetStats {
  requests = 0;
  errors = 0;
  readonly histogram = newHistogram();
  readonly options: Dispatcher.DispatchOptions;

  constructor(
    readonly target: LoadTarget,
    timeoutMs: number,
  ) {
    this.options = {
      origin: target.url.origin,
      path: `${target.url.pathname}${target.url.search}`,
      method: target.method,
      headers: { 'user-agent': 'WebGuard load-test', ...target.headers },
      body: target.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    };
  }
}

/** Target indices repeated by weight, walked round-robin: a fixed, even spread. */
function weightedOrder(targets: readonly LoadTarget[]): number[] {
  return targets.flatMap((target, index) => Array<number>(target.weight).fill(index));
}

function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

/**
 * Puts `plan`'s load on its targets and measures it. Requests go straight to an undici Agent
 * through `dispatch` with a bare handler (no promise or stream per request), so one event loop
 * can saturate a local server. Resolves with the measurements; rejects with the signal's reason
 * as soon as the signal aborts.
 */
export function generateLoad(plan: LoadPlan): Promise<LoadResult> {
  if (plan.signal.aborted) return Promise.reject(plan.signal.reason as Error);
  const agent = new Agent({ connections: plan.connections, pipelining: plan.pipelining });
  const stats = plan.targets.map((target) => new TargetStats(target, plan.timeoutMs));
  const order = weightedOrder(plan.targets);
  const overall = newHistogram();
  const statuses: Record<string, number> = {};
  const failures: Record<string, number> = {};
  let next = 0;
  let inFlight = 0;
  let requests = 0;
  let requestsInWindow = 0;
  let errors = 0;
  let dropped = 0;
  let bytesReceived = 0;
  let stopped = false;
  let aborted = false;
  let stoppedAt = 0;
  let onDrained: (() => void) | undefined;
  const startedAt = performance.now();

  const settle = (entry: TargetStats, ok: boolean): void => {
    inFlight--;
    requests++;
    if (!stopped) requestsInWindow++;
    entry.requests++;
    if (!ok) {
      errors++;
      entry.errors++;
    }
    if (stopped && inFlight === 0) onDrained?.();
  };

  /** Sends one request to the next target; `then` runs when it has ended either way. */
  const fire = (then?: () => void): void => {
    const entry = stats[order[next++ % order.length] ?? 0] as TargetStats;
    const sentAt = performance.now();
    let status = 0;
    inFlight++;
    agent.dispatch(entry.options, {
      // Its presence tells undici this handler uses the controller API below.
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData(_controller, chunk) {
        bytesReceived += chunk.length;
      },
      onResponseEnd() {
        const micros = Math.max(1, Math.round((performance.now() - sentAt) * 1000));
        overall.recordValue(micros);
        entry.histogram.recordValue(micros);
        statuses[status] = (statuses[status] ?? 0) + 1;
        settle(entry, plan.isSuccess(status));
        then?.();
      },
      onResponseError(_controller, error) {
        if (aborted) return;
        const code = errorCode(error);
        failures[code] = (failures[code] ?? 0) + 1;
        settle(entry, false);
        // A refused connection fails at once: continue on a later turn, not recursively.
        if (then) setImmediate(then);
      },
    });
  };

  const elapsed = (): number => performance.now() - startedAt;
  const timers: NodeJS.Timeout[] = [];

  if (plan.mode === 'concurrency') {
    const users = plan.connections * plan.pipelining;
    let active = 0;
    const loop = (): void => {
      if (!stopped) fire(loop);
    };
    const grow = (): void => {
      const due =
        plan.rampUpMs === 0
          ? users
          : Math.min(users, Math.max(1, Math.ceil((users * elapsed()) / plan.rampUpMs)));
      for (; active < due; active++) loop();
    };
    grow();
    if (active < users) timers.push(setInterval(grow, RAMP_TICK_MS));
  } else {
    const perMs = plan.rate / 1000;
    // Requests due by time t: the integral of a rate rising linearly over the ramp, then flat.
    const dueBy = (t: number): number =>
      t < plan.rampUpMs
        ? (perMs * t * t) / (2 * plan.rampUpMs)
        : (perMs * plan.rampUpMs) / 2 + perMs * (t - plan.rampUpMs);
    // A late timer must not add requests beyond what the whole run plans.
    const planned = Math.floor(dueBy(plan.rampUpMs + plan.durationMs));
    let started = 0;
    const tick = (): void => {
      const due = Math.min(planned, Math.floor(dueBy(elapsed())));
      for (; started < due; started++) {
        if (inFlight >= plan.maxInFlight) dropped++;
        else fire();
      }
    };
    tick();
    timers.push(setInterval(tick, RATE_TICK_MS));
  }

  return new Promise<LoadResult>((resolve, reject) => {
    const result = (): LoadResult => ({
      elapsedMs: stoppedAt - startedAt,
      requests,
      requestsInWindow,
      errors,
      dropped,
      bytesReceived,
      statuses,
      failures,
      latency: summarize(overall),
      targets: stats.map((entry) => ({
        url: entry.target.url.href,
        method: entry.target.method,
        requests: entry.requests,
        errors: entry.errors,
        latency_ms: summarize(entry.histogram),
      })),
    });
    const stopTimers = (): void => {
      for (const timer of timers) clearInterval(timer);
      clearTimeout(endTimer);
    };
    const onAbort = (): void => {
      stopped = true;
      aborted = true;
      stopTimers();
      clearTimeout(drainTimer);
      void agent.destroy();
      reject(plan.signal.reason as Error);
    };
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(drainTimer);
      plan.signal.removeEventListener('abort', onAbort);
      // Requests still in flight after the drain are cut off and not counted.
      aborted = true;
      void agent.destroy();
      resolve(result());
    };
    const endTimer = setTimeout(() => {
      stopped = true;
      stoppedAt = performance.now();
      stopTimers();
      if (inFlight === 0) return finish();
      onDrained = finish;
      drainTimer = setTimeout(finish, Math.min(plan.timeoutMs, MAX_DRAIN_MS));
    }, plan.rampUpMs + plan.durationMs);
    plan.signal.addEventListener('abort', onAbort, { once: true });
  });
}
