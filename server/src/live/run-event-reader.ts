import type { Redis } from 'ioredis';
import type { RunEvent } from '@webguard/shared';
import type { LiveKeys } from './keys.js';

/** Events read per round trip while replaying. */
const BATCH = 500;

/** Reads stored events of a run, in seq order, from `fromSeq` on. */
export async function readRunEvents(
  redis: Redis,
  keys: LiveKeys,
  executionId: number,
  fromSeq: number,
): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  let start = `${fromSeq}-0`;
  for (;;) {
    const entries = await redis.xrange(keys.stream(executionId), start, '+', 'COUNT', BATCH);
    for (const [, fields] of entries) {
      const json = fields[fields.indexOf('e') + 1];
      if (json) events.push(JSON.parse(json) as RunEvent);
    }
    if (entries.length < BATCH) return events;
    const last = events.at(-1);
    if (!last) return events;
    start = `${last.seq + 1}-0`;
  }
}

/** The last seq a run has assigned, 0 before its first event. */
export async function lastRunSeq(redis: Redis, keys: LiveKeys, executionId: number) {
  return Number((await redis.get(keys.seq(executionId))) ?? 0);
}
