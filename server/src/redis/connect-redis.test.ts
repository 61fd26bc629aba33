import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../test/support/redis.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from './connect-redis.js';
import type { RedisHandle } from './connect-redis.js';
import { startEmbeddedRedis } from './embedded-redis-server.js';
import type { EmbeddedRedisServer } from './embedded-redis-server.js';
import { RedisUnavailableError } from './errors.js';
import { probeRedis } from './probe.js';
import {
  LEVEL,
  TempDirs,
  captureLogger,
  freePort,
  isAlive,
  startSilentServer,
  waitFor,
} from '../../test/support/redis-helpers.js';

const dirs = new TempDirs();
const handles: RedisHandle[] = [];

afterAll(async () => {
  await Promise.all(handles.map((handle) => handle.close()));
  await dirs.removeAll();
});

async function connect(
  url: string,
  options: { redisServerPath?: string; probeTimeoutMs?: number } = {},
) {
  const { logger, entries } = captureLogger();
  const handle = await connectRedis({ url, dataDir: await dirs.make(), logger, ...options });
  handles.push(handle);
  return { handle, entries };
}

describe('connectRedis', () => {
  it('uses the Redis that answers at the URL and closes the connections it made', async () => {
    const { handle } = await connect(TEST_REDIS_URL);
    expect(handle).toMatchObject({ url: TEST_REDIS_URL, embedded: false });

    const connection = handle.createConnection('test');
    expect(connection.options.maxRetriesPerRequest).toBeNull();
    expect(await connection.client('GETNAME')).toBe('webguard:test');

    await handle.close();
    expect(connection.status).toBe('end');
    expect(() => handle.createConnection('late')).toThrow(/the Redis handle is closed/);
  });

  it('starts a private Redis on the configured local port when none answers, and stops it on close', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const { logger, entries } = captureLogger();
    const dataDir = await dirs.make();
    const handle = await connectRedis({ url, dataDir, logger });
    handles.push(handle);
    expect(handle).toMatchObject({ url, embedded: true });

    await handle.createConnection('test').set('webguard:job', 'queued');
    await access(join(dataDir, 'redis', 'appendonlydir'));
    const pid = Number(await readFile(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
    expect(isAlive(pid)).toBe(true);
    expect(entries.filter((entry) => entry.level >= LEVEL.warn)).toEqual([]);

    await handle.close();
    expect(isAlive(pid)).toBe(false);
    expect((await probeRedis(url, 1_000)).outcome).toBe('refused');
  });

  it('closes without hanging after the private Redis died', async () => {
    const { handle, entries } = await connect(`redis://127.0.0.1:${await freePort()}`);
    const connection = handle.createConnection('test');
    await connection.ping();
    const pid = Number(
      await connection.info('server').then((info) => /process_id:(\d+)/.exec(info)?.[1]),
    );

    process.kill(pid, 'SIGKILL');
    await waitFor(() => connection.status === 'reconnecting');
    // The child's exit event can come after the socket notices; wait for it before closing.
    await waitFor(() => entries.some((entry) => entry.level === LEVEL.error));
    const started = Date.now();
    await handle.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: LEVEL.error,
        msg: expect.stringContaining('was killed by SIGKILL unexpectedly'),
      }),
    );
  });

  it('fails with one actionable line when none answers and there is no redis-server', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const failure = connect(url, { redisServerPath: '/nonexistent/redis-server' });
    await expect(failure).rejects.toThrow(RedisUnavailableError);
    await expect(failure).rejects.toThrow(
      `Redis is not reachable at ${url} (connect ECONNREFUSED) and there is no executable redis-server at /nonexistent/redis-server: install Redis (e.g. "apt-get install redis-server" or "brew install redis") or set REDIS_URL.`,
    );
  });

  it('does not hang on a port that accepts connections but never answers', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      await expect(
        connect(`redis://127.0.0.1:${silent.port}`, { probeTimeoutMs: 300 }),
      ).rejects.toThrow(
        `(no answer within 300 ms) and something holds port ${silent.port} but does not answer as Redis`,
      );
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await silent.close();
    }
  });

  it('rejects a URL that is not a Redis URL', async () => {
    await expect(connect('http://127.0.0.1:6379')).rejects.toThrow(RedisUnavailableError);
  });

  describe('against a Redis whose settings the test may change', () => {
    let server: EmbeddedRedisServer;
    let admin: Redis;

    beforeAll(async () => {
      server = await startEmbeddedRedis({
        redisServerPath: 'redis-server',
        dir: await dirs.make(),
        port: await freePort(),
        logger: captureLogger().logger,
      });
      admin = new Redis(server.url);
      await admin.acl('SETUSER', 'managed', 'on', '>secret', '~*', '&*', '+@all', '-config');
    });

    afterAll(async () => {
      admin.disconnect();
      await server.stop();
    });

    it('warns when the eviction policy can lose jobs', async () => {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      try {
        const { handle, entries } = await connect(server.url);
        expect(handle.embedded).toBe(false);
        expect(entries.filter((entry) => entry.level === LEVEL.warn)).toEqual([
          expect.objectContaining({
            maxmemoryPolicy: 'allkeys-lru',
            msg: expect.stringContaining('BullMQ needs "noeviction"'),
          }),
        ]);
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
      }
    });

    it('skips the eviction check quietly when CONFIG is not allowed, as on managed Redis', async () => {
      const { entries } = await connect(server.url.replace('//', '//managed:secret@'));
      expect(entries.filter((entry) => entry.level >= LEVEL.warn)).toEqual([]);
      expect(entries).toContainEqual(
        expect.objectContaining({
          level: LEVEL.debug,
          msg: expect.stringContaining('maxmemory-policy'),
        }),
      );
    });

    it('points at the credentials when Redis rejects them', async () => {
      await expect(connect(server.url.replace('//', '//managed:wrong@'))).rejects.toThrow(
        /^Redis at redis:\/\/managed:\*\*\*@127\.0\.0\.1:\d+ refused WebGuard \(WRONGPASS [^\n]*\): fix the credentials/,
      );
    });
  });
});
