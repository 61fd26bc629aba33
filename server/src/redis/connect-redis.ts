import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withDeadline } from './deadline.js';
import { findExecutable, isExecutable, startEmbeddedRedis } from './embedded-redis-server.js';
import type { EmbeddedRedisServer } from './embedded-redis-server.js';
import { RedisUnavailableError } from './errors.js';
import { checkEvictionPolicy } from './eviction-policy.js';
import { planFallback } from './fallback-plan.js';
import type { RedisServerLookup } from './fallback-plan.js';
import { probeRedis } from './probe.js';
import { parseRedisUrl, redactUrl } from './redis-url.js';

export interface ConnectRedisOptions {
  /** REDIS_URL, e.g. redis://127.0.0.1:6379. */
  url: string;
  /** WebGuard's data folder; a private Redis keeps its files in `<dataDir>/redis/`. */
  dataDir: string;
  logger: Logger;
  /** How long to wait for Redis to answer at `url`. Default 2 000 ms. */
  probeTimeoutMs?: number;
  /** redis-server to start when nothing answers at a local `url`. Default: the first on PATH. */
  redisServerPath?: string;
}

export interface RedisHandle {
  /** The URL actually used: the private server's when one was started. */
  readonly url: string;
  /** True when WebGuard started redis-server itself. */
  readonly embedded: boolean;
  /**
   * A new connection named `webguard:<purpose>`, with `maxRetriesPerRequest: null` as BullMQ
   * workers require: commands wait through a Redis restart instead of failing. `autoPipelining`
   * sends the commands of one event-loop turn in one write: for busy writers that never block
   * (live events, stats), not for BullMQ's own connections.
   */
  createConnection(purpose: string, options?: { autoPipelining?: boolean }): Redis;
  /** Closes every connection created here, then stops the private server if there is one. */
  close(): Promise<void>;
}

const QUIT_TIMEOUT_MS = 2_000;

/**
 * Finds a Redis for WebGuard: the one at `url` if it answers, else a private redis-server started
 * under `dataDir` when `url` is local and redis-server is installed. Throws RedisUnavailableError
 * with a message a person can act on when neither works.
 */
export async function connectRedis(options: ConnectRedisOptions): Promise<RedisHandle> {
  const { url, dataDir, logger, probeTimeoutMs = 2_000 } = options;
  const target = parseRedisUrl(url);

  // 1. Use the Redis that answers at the configured URL.
  const probe = await probeRedis(url, probeTimeoutMs);
  let server: EmbeddedRedisServer | undefined;
  let usedUrl = url;

  // 2. Nothing answers: start a private Redis where that is safe, or explain what to do.
  if (probe.outcome !== 'answered') {
    const plan = planFallback(target, probe, await lookUpRedisServer(options.redisServerPath));
    if (!plan.start) throw new RedisUnavailableError(plan.message);
    logger.info(
      { url: redactUrl(url), reason: probe.reason },
      'No Redis answers; starting a private one.',
    );
    server = await startEmbeddedRedis({
      redisServerPath: plan.redisServerPath,
      dir: join(dataDir, 'redis'),
      port: plan.port,
      logger,
    });
    usedUrl = plan.url;
  }

  // 3. Warn when Redis may evict BullMQ's keys.
  await checkEvictionPolicy(usedUrl, probeTimeoutMs, logger);

  logger.info({ url: redactUrl(usedUrl), embedded: server !== undefined }, 'Using Redis.');
  return createHandle(usedUrl, server, logger);
}

async function lookUpRedisServer(requested: string | undefined): Promise<RedisServerLookup> {
  if (requested !== undefined) {
    return { requested, path: (await isExecutable(requested)) ? requested : undefined };
  }
  // PATH is the operating system's search list, not WebGuard configuration.
  return { requested, path: await findExecutable('redis-server', process.env.PATH ?? '') };
}

function createHandle(
  url: string,
  server: EmbeddedRedisServer | undefined,
  logger: Logger,
): RedisHandle {
  const connections = new Set<Redis>();
  let closing: Promise<void> | undefined;
  return {
    url,
    embedded: server !== undefined,
    createConnection(purpose, { autoPipelining = false } = {}) {
      if (closing !== undefined) {
        throw new Error(
          `Cannot open a Redis connection for ${purpose}: the Redis handle is closed.`,
        );
      }
      const connection = new Redis(url, {
        maxRetriesPerRequest: null,
        connectionName: `webguard:${purpose}`,
        enableAutoPipelining: autoPipelining,
      });
      // Without a listener ioredis prints each failed reconnect to the console.
      connection.on('error', (err: Error) =>
        logger.warn({ err, purpose }, 'Redis connection error.'),
      );
      connection.once('end', () => connections.delete(connection));
      connections.add(connection);
      return connection;
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...connections].map(closeConnection));
        await server?.stop();
      })();
      return closing;
    },
  };
}

/** Resolves once the connection's socket is closed, so nothing keeps the process alive. */
async function closeConnection(connection: Redis): Promise<void> {
  const ended = new Promise((resolve) => connection.once('end', resolve));
  // QUIT lets replies in flight arrive; a Redis that is gone never answers it, so cap the wait.
  await withDeadline(connection.quit(), QUIT_TIMEOUT_MS, 'Redis QUIT').catch(() => undefined);
  connection.disconnect();
  // Between reconnect attempts there is no socket, and ioredis never emits 'end'.
  if (connection.status !== 'reconnecting') await ended;
}
