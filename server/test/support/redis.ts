import { randomBytes } from 'node:crypto';

export const TEST_REDIS_URL = process.env.WEBGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A BullMQ prefix of its own per test file, so queues never mix between runs. */
export const uniqueQueuePrefix = () => `wgtest-${randomBytes(4).toString('hex')}`;
