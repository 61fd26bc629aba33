import { context, propagation, type Context } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A run's trace context outlives its trigger by this much at most. */
const TTL_SECONDS = 2 * 86_400;
/** Tracing never holds up a run: a Redis that does not answer in time means no parent. */
const MAX_WAIT_MS = 500;

function bounded<T>(work: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), MAX_WAIT_MS);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Carries a run's trace context from the API request that triggered it to every job of the run.
 * Job payloads are strict schemas shared by every producer, so the W3C `traceparent` of the
 * trigger is kept next to the run in Redis instead, keyed by execution, and every worker that
 * picks up one of the run's jobs continues that trace. Nothing is written when tracing is off.
 */
export class ExecutionTraces {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly enabled: boolean,
    private readonly logger: Logger,
  ) {}

  private key(executionId: number) {
    return `${this.prefix}:trace:execution:${executionId}`;
  }

  /** Keeps the active context (the trigger's span) as the parent of the run's jobs. */
  async remember(executionId: number): Promise<void> {
    if (!this.enabled) return;
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    if (!carrier.traceparent) return;
    try {
      await bounded(
        this.redis.set(this.key(executionId), JSON.stringify(carrier), 'EX', TTL_SECONDS),
        null,
      );
    } catch (error) {
      this.logger.debug({ err: error, execution_id: executionId }, 'trace context not kept');
    }
  }

  /** The context a job of the run continues; the active one when none was kept. */
  async parentOf(executionId: number): Promise<Context> {
    if (!this.enabled) return context.active();
    try {
      const json = await bounded(this.redis.get(this.key(executionId)), null);
      if (!json) return context.active();
      return propagation.extract(context.active(), JSON.parse(json) as Record<string, string>);
    } catch (error) {
      this.logger.debug({ err: error, execution_id: executionId }, 'trace context not read');
      return context.active();
    }
  }
}
