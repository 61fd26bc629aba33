import { once } from 'node:events';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../test/support/redis.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis } from './embedded-redis-server.js';
import type { EmbeddedRedisServer } from './embedded-redis-server.js';
import { pingRedis, probeRedis } from './probe.js';
import {
  TempDirs,
  captureLogger,
  freePort,
  startSilentServer,
} from '../../test/support/redis-helpers.js';

describe('probeRedis', () => {
  it('finds the Redis that answers', async () => {
    expect(await probeRedis(TEST_REDIS_URL, 2_000)).toEqual({ outcome: 'answered' });
  });

  it('tells a closed port apart', async () => {
    expect(await probeRedis(`redis://127.0.0.1:${await freePort()}`, 2_000)).toEqual({
      outcome: 'refused',
      reason: 'connect ECONNREFUSED',
    });
  });

  it('gives up on a port that accepts but never answers, within its timeout', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      expect(await probeRedis(`redis://127.0.0.1:${silent.port}`, 300)).toEqual({
        outcome: 'no-answer',
        reason: 'no answer within 300 ms',
      });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await silent.close();
    }
  });
});

describe('pingRedis', () => {
  const dirs = new TempDirs();
  const connections: Redis[] = [];
  let server: EmbeddedRedisServer;

  beforeAll(async () => {
    const { logger } = captureLogger();
    server = await startEmbeddedRedis({
      redisServerPath: 'redis-server',
      dir: await dirs.make(),
      port: await freePort(),
      logger,
    });
  });

  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    await server.stop();
    await dirs.removeAll();
  });

  async function readyConnection(url: string): Promise<Redis> {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    connections.push(connection);
    await once(connection, 'ready');
    return connection;
  }

  it('reports the latency of a live connection', async () => {
    const result = await pingRedis(await readyConnection(TEST_REDIS_URL), 1_000);
    expect(result).toEqual({ ok: true, latency_ms: expect.any(Number) });
  });

  it('fails at once, without queueing a PING, when the connection is down', async () => {
    const connection = new Redis(`redis://127.0.0.1:${await freePort()}`, { lazyConnect: true });
    connections.push(connection);
    expect(await pingRedis(connection, 1_000)).toEqual({ ok: false, error: 'connection is wait' });
  });

  it('fails after its timeout when Redis does not answer', async () => {
    const connection = await readyConnection(server.url);
    // A second client pauses the private server; the shared one is never touched.
    const admin = await readyConnection(server.url);
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    const started = Date.now();
    expect(await pingRedis(connection, 200)).toEqual({
      ok: false,
      error: 'Redis PING took longer than 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
