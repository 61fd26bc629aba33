import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable, startEmbeddedRedis } from './embedded-redis-server.js';
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
const servers: EmbeddedRedisServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await dirs.removeAll();
});

async function start(
  dir: string,
  port: number,
  logger = captureLogger().logger,
): Promise<EmbeddedRedisServer> {
  const server = await startEmbeddedRedis({
    redisServerPath: 'redis-server',
    dir,
    port,
    logger,
  });
  servers.push(server);
  return server;
}

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url);
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

describe('findExecutable', () => {
  it('returns the first executable of that name on the search path, like which', async () => {
    const root = await dirs.make();
    const [empty, notExecutable, bin] = ['empty', 'plain', 'bin'].map((name) =>
      join(root, name),
    ) as [string, string, string];
    await Promise.all([empty, notExecutable, bin].map((dir) => mkdir(dir)));
    await writeFile(join(notExecutable, 'redis-server'), '');
    await writeFile(join(bin, 'redis-server'), '#!/bin/sh\n');
    await chmod(join(bin, 'redis-server'), 0o755);

    expect(await findExecutable('redis-server', [empty, notExecutable, bin].join(delimiter))).toBe(
      join(bin, 'redis-server'),
    );
    expect(
      await findExecutable('redis-server', [empty, notExecutable].join(delimiter)),
    ).toBeUndefined();
    expect(await findExecutable('redis-server', '')).toBeUndefined();
  });
});

describe('startEmbeddedRedis', () => {
  it('runs a local, persistent, non-evicting Redis and stops it', async () => {
    const dir = await dirs.make();
    const server = await start(dir, await freePort());

    const config = await withClient(server.url, async (client) => {
      await client.set('webguard:job', 'queued');
      return client.config('GET', 'maxmemory-policy', 'appendonly', 'bind', 'dir');
    });
    expect(config).toEqual(
      expect.arrayContaining([
        'maxmemory-policy',
        'noeviction',
        'appendonly',
        'yes',
        'bind',
        '127.0.0.1',
        'dir',
        dir,
      ]),
    );
    expect(Number(await readFile(join(dir, 'redis.pid'), 'utf8'))).toBe(server.pid);
    expect((await stat(join(dir, 'redis.log'))).size).toBeGreaterThan(0);

    await server.stop();
    expect(isAlive(server.pid)).toBe(false);
    expect((await probeRedis(server.url, 1_000)).outcome).toBe('refused');
  });

  it('keeps queued data across a restart', async () => {
    const dir = await dirs.make();
    const port = await freePort();
    const first = await start(dir, port);
    await withClient(first.url, (client) => client.set('webguard:job', 'queued'));
    await first.stop();

    const second = await start(dir, port);
    expect(await withClient(second.url, (client) => client.get('webguard:job'))).toBe('queued');
    await second.stop();
  });

  it('fails with the tail of its log when it cannot start', async () => {
    const taken = await startSilentServer();
    try {
      const failure = start(await dirs.make(), taken.port);
      await expect(failure).rejects.toThrow(RedisUnavailableError);
      await expect(failure).rejects.toThrow(
        /exited with code 1 before answering\. Last lines of its output/,
      );
      await expect(failure).rejects.toThrow(/Address already in use/);
    } finally {
      await taken.close();
    }
  });

  it('logs an error when it dies unexpectedly', async () => {
    const { logger, entries } = captureLogger();
    const server = await start(await dirs.make(), await freePort(), logger);

    process.kill(server.pid, 'SIGKILL');
    await waitFor(() => entries.some((entry) => entry.level === LEVEL.error));
    expect(entries.find((entry) => entry.level === LEVEL.error)).toMatchObject({
      redisPid: server.pid,
      msg: 'The private Redis was killed by SIGKILL unexpectedly: WebGuard cannot queue or run jobs until it is restarted.',
    });
    await server.stop();
  });
});
