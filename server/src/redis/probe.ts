import { Redis } from 'ioredis';
import type { ReadinessResponse } from '@webguard/shared';
import { DeadlineError, withDeadline } from './deadline.js';

/**
 * What a probe found at a URL:
 * - `answered`: a Redis replied to PING;
 * - `refused`: nothing listens on that port;
 * - `no-answer`: no reply in time, or the host could not be reached or resolved;
 * - `rejected`: a Redis replied with an error, e.g. wrong credentials.
 */
export type ProbeResult =
  { outcome: 'answered' } | { outcome: 'refused' | 'no-answer' | 'rejected'; reason: string };

export type RedisCheck = ReadinessResponse['checks'][string];

/**
 * Runs `use` on a throwaway connection that fails fast: no retries, no offline queue, and the
 * whole exchange (connect included) bounded by `timeoutMs`, so startup never hangs on a bad URL.
 */
export async function withProbeClient<T>(
  url: string,
  timeoutMs: number,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: 'webguard:probe',
  });
  // connect() rejects with a bare "Connection is closed"; the cause only arrives as an event.
  let cause: Error | undefined;
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  try {
    return await withDeadline(
      client.connect().then(() => use(client)),
      timeoutMs,
      'Redis probe',
    );
  } catch (err) {
    throw err instanceof DeadlineError ? err : (cause ?? err);
  } finally {
    client.disconnect();
  }
}

export async function probeRedis(url: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    await withProbeClient(url, timeoutMs, (client) => client.ping());
    return { outcome: 'answered' };
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    if (error instanceof DeadlineError) {
      return { outcome: 'no-answer', reason: `no answer within ${timeoutMs} ms` };
    }
    if (error.code === 'ECONNREFUSED') return { outcome: 'refused', reason: describe(error) };
    // ioredis types ReplyError as `any`, so recognise it by name.
    if (error.name === 'ReplyError') return { outcome: 'rejected', reason: error.message };
    return { outcome: 'no-answer', reason: describe(error) };
  }
}

/** Readiness check on a live connection; never waits longer than `timeoutMs`. */
export async function pingRedis(connection: Redis, timeoutMs: number): Promise<RedisCheck> {
  const started = performance.now();
  // A fresh connection still handshaking gets the deadline to finish; a broken one fails now,
  // because a PING sent while disconnected would sit in the offline queue until Redis returns.
  if (connection.status === 'connecting' || connection.status === 'connect') {
    const ready = new Promise<void>((resolve) => connection.once('ready', () => resolve()));
    await withDeadline(ready, timeoutMs, 'Redis connection').catch(() => undefined);
  }
  if (connection.status !== 'ready') {
    return { ok: false, error: `connection is ${connection.status}` };
  }
  try {
    await withDeadline(connection.ping(), timeoutMs, 'Redis PING');
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** "connect ECONNREFUSED" rather than the address, which the caller's message already names. */
function describe(error: NodeJS.ErrnoException): string {
  return error.syscall !== undefined && error.code !== undefined
    ? `${error.syscall} ${error.code}`
    : error.message;
}
