import type { Logger } from 'pino';
import { withProbeClient } from './probe.js';

/**
 * Warns when the Redis at `url` may evict keys under memory pressure: BullMQ keeps every job in
 * Redis, so an evicting policy loses jobs silently. Advisory only: it never fails startup.
 */
export async function checkEvictionPolicy(
  url: string,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  let policy: string | undefined;
  try {
    // CONFIG GET replies with [name, value] pairs.
    const reply = await withProbeClient(url, timeoutMs, (client) =>
      client.config('GET', 'maxmemory-policy'),
    );
    policy = (reply as string[])[1];
  } catch (err) {
    // Managed services (ElastiCache, Memorystore, ...) often disable CONFIG; nothing to check then.
    logger.debug(
      { err },
      'Could not read the Redis maxmemory-policy; skipping the eviction check.',
    );
    return;
  }
  if (policy !== undefined && policy !== 'noeviction') {
    logger.warn(
      { maxmemoryPolicy: policy },
      `Redis maxmemory-policy is "${policy}", but BullMQ needs "noeviction": under memory pressure Redis would delete queue keys and jobs would be lost. Set maxmemory-policy to noeviction.`,
    );
  }
}
