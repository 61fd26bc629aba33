import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RecurringJobs {
  close(): void;
}

/**
 * Keeps the recurring jobs a process is responsible for (the reaper, artifact retention, cron
 * schedules) present in Redis. They are written at start; a Redis that comes back without its
 * data has lost them, and nothing else would write them again until a process restarts. A marker
 * key is written with them: when it is gone, so are they, and they are written again.
 */
export async function keepRecurringJobs(options: {
  /** Writes every recurring job (each write is an upsert, so repeating it is harmless). */
  install: () => Promise<void>;
  /** The marker key, one per set of jobs, under the installation's prefix. */
  markerKey: string;
  /** How often the marker is checked. */
  everyMs: number;
  redis: Redis;
  logger: Logger;
}): Promise<RecurringJobs> {
  const { install, markerKey, everyMs, redis, logger } = options;
  const installWithMarker = async () => {
    await install();
    await redis.set(markerKey, String(Date.now()));
  };
  await installWithMarker();
  let busy = false;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      if ((await redis.exists(markerKey)) === 0) {
        logger.warn('recurring jobs missing from Redis (it lost its data?); writing them again');
        await installWithMarker();
      }
    } catch (error) {
      // Redis is down: the next check, once it is back, does the work.
      logger.debug({ err: error }, 'recurring jobs not checked');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
