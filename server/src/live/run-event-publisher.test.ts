import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../test/support/closed-port.js';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../../test/support/redis.js';
import { LiveKeys } from './keys.js';
import { RunEventPublisher } from './run-event-publisher.js';
import { lastRunSeq, readRunEvents } from './run-event-reader.js';

const logger = pino({ level: 'silent' });
const keys = new LiveKeys(uniqueQueuePrefix());
const connections: Redis[] = [];
const connect = (url = TEST_REDIS_URL) => {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  connections.push(redis);
  return redis;
};
const options = { maxLen: 1000, ttlSeconds: 60, logger };

afterAll(() => {
  for (const redis of connections) redis.disconnect();
});

describe('RunEventPublisher', () => {
  it('numbers the events of a run without gaps, whichever process publishes them', async () => {
    // Two publishers on their own connections, as a worker and the API would be.
    const worker = new RunEventPublisher(connect(), keys, options);
    const api = new RunEventPublisher(connect(), keys, options);
    const seqs = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        (index % 2 ? worker : api).publish({
          type: 'log',
          execution_id: 41,
          case_id: 1,
          case_name: 'c',
          entry: { time: new Date().toISOString(), level: 'info', message: `line ${index}` },
        }),
      ),
    );
    expect([...seqs].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const reader = connect();
    const stored = await readRunEvents(reader, keys, 41, 1);
    expect(stored.map((event) => event.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await lastRunSeq(reader, keys, 41)).toBe(200);
    expect((await readRunEvents(reader, keys, 41, 151)).map((event) => event.seq)[0]).toBe(151);
    // Until the run ends its keys live long; after, for the configured TTL.
    expect(await reader.ttl(keys.stream(41))).toBeGreaterThan(86_400);
    await api.publish({
      type: 'execution.finished',
      execution_id: 41,
      status: 'passed',
      total_tests: 1,
      passed_tests: 1,
      failed_tests: 0,
      skipped_tests: 0,
      duration_ms: 5,
    });
    expect(await reader.ttl(keys.stream(41))).toBeLessThanOrEqual(60);
  });

  it('sends the events of one turn together, each run numbered on its own, in publish order', async () => {
    const publisher = new RunEventPublisher(connect(), keys, options);
    const log = (executionId: number, message: string) =>
      publisher.publish({
        type: 'log',
        execution_id: executionId,
        case_id: 1,
        case_name: 'c',
        entry: { time: new Date().toISOString(), level: 'info', message },
      });
    // More than one script call's worth, two runs interleaved.
    const seqs = await Promise.all(
      Array.from({ length: 450 }, (_, index) => log(44 + (index % 2), `line ${index}`)),
    );
    expect(seqs.filter((_, index) => index % 2 === 0)).toEqual(
      Array.from({ length: 225 }, (_, i) => i + 1),
    );
    const reader = connect();
    for (const [executionId, first] of [
      [44, 0],
      [45, 1],
    ] as const) {
      const stored = await readRunEvents(reader, keys, executionId, 1);
      expect(stored.map((event) => (event.type === 'log' ? event.entry.message : ''))).toEqual(
        Array.from({ length: 225 }, (_, i) => `line ${first + i * 2}`),
      );
    }
  });

  it('never holds a caller up when Redis is away, and drops what it cannot keep', async () => {
    const away = new RunEventPublisher(connect(`redis://127.0.0.1:${await closedPort()}`), keys, {
      ...options,
      maxPending: 3,
    });
    const event = { type: 'execution.started' as const, execution_id: 42 };
    const results = await Promise.all(Array.from({ length: 5 }, () => away.publish(event)));
    // Each awaited publish gives up after its bounded wait: Redis never comes back here.
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses a malformed event instead of streaming it', async () => {
    const publisher = new RunEventPublisher(connect(), keys, options);
    const seq = await publisher.publish({
      type: 'case.started',
      execution_id: 43,
      case_id: -5,
      case_name: 'c',
      skill_name: 'echo',
      attempt: 1,
    });
    expect(seq).toBeUndefined();
    expect(await lastRunSeq(connect(), keys, 43)).toBe(0);
  });
});
