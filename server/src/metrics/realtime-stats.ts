import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EXECUTION_STATUSES, type Execution, type ExecutionStatus } from '@webguard/shared';

/** A finished run's summary stays cached this long. */
const SUMMARY_TTL_SECONDS = 3600;

export type SuiteCounters = Partial<Record<ExecutionStatus | 'total', number>>;

/**
 * The design's real-time stats in Redis: finished runs counted per suite and status, and each
 * finished run's summary cached for an hour, so dashboards need not query PostgreSQL for them.
 */
export class RealtimeStats {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  private suiteKey(suiteId: number) {
    return `${this.prefix}:stats:suite:${suiteId}`;
  }

  private summaryKey(executionId: number) {
    return `${this.prefix}:stats:execution:${executionId}`;
  }

  /** Never throws: stats are a convenience, the database holds the record. */
  async executionFinished(execution: Execution): Promise<void> {
    try {
      await this.redis
        .multi()
        .hincrby(this.suiteKey(execution.suite_id), execution.status, 1)
        .hincrby(this.suiteKey(execution.suite_id), 'total', 1)
        .set(this.summaryKey(execution.id), JSON.stringify(execution), 'EX', SUMMARY_TTL_SECONDS)
        .exec();
    } catch (error) {
      this.logger.warn({ err: error, execution_id: execution.id }, 'real-time stats not updated');
    }
  }

  async suiteCounters(suiteId: number): Promise<SuiteCounters> {
    const raw = await this.redis.hgetall(this.suiteKey(suiteId));
    const counters: SuiteCounters = {};
    for (const status of [...EXECUTION_STATUSES, 'total'] as const)
      if (raw[status] !== undefined) counters[status] = Number(raw[status]);
    return counters;
  }

  async executionSummary(executionId: number): Promise<Execution | undefined> {
    const json = await this.redis.get(this.summaryKey(executionId));
    return json ? (JSON.parse(json) as Execution) : undefined;
  }
}
