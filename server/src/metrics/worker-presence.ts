import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A worker process reports every 10 s; after 30 s of silence it counts as gone. */
const BEAT_MS = 10_000;
const GONE_AFTER_MS = 30_000;

const presenceKey = (prefix: string) => `${prefix}:workers:online`;

/**
 * Keeps this worker process in a Redis sorted set scored by its last beat, so any process can
 * count the workers online without asking them.
 */
export class WorkerPresence {
  readonly id = randomUUID();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.beat(), BEAT_MS);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const key = presenceKey(this.prefix);
    const now = Date.now();
    try {
      await this.redis
        .multi()
        .zadd(key, now, this.id)
        .zremrangebyscore(key, '-inf', now - GONE_AFTER_MS)
        .exec();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not report this worker as online');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.redis.zrem(presenceKey(this.prefix), this.id);
    } catch {
      // The entry ages out by itself.
    }
  }
}

/** Worker processes that reported within the last 30 s. */
export async function countWorkersOnline(redis: Redis, prefix: string): Promise<number> {
  return redis.zcount(presenceKey(prefix), Date.now() - GONE_AFTER_MS, '+inf');
}
