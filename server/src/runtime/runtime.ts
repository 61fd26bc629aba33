import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ReadinessResponse } from '@webguard/shared';
import { buildApp, type WebGuardApp } from '../api/app.js';
import type { Config } from '../config.js';
import {
  CaseRepository,
  ExecutionRepository,
  openDatabase,
  ResultRepository,
  SkillRegistryRepository,
  SuiteRepository,
  type DatabaseHandle,
} from '../db/index.js';
import { QUEUE_NAMES, type QueueName } from '../queues/job-catalog.js';
import { JobQueues } from '../queues/job-queues.js';
import { connectRedis, pingRedis, type RedisHandle } from '../redis/index.js';
import { ExecutionService } from '../services/execution-service.js';
import { builtinSkillsDir, SkillRegistry } from '../skills/index.js';
import { startWorkerPool, type WorkerPool } from '../workers/worker-pool.js';
import { VERSION } from './version.js';

export interface RuntimeRoles {
  /** Serve the REST API on config.host:config.port. */
  api: boolean;
  /** Queues this process works on (empty: none). */
  workers: QueueName[];
  /** Override the configured concurrency per queue. */
  concurrency?: number;
  /** Bind the API to host:port (default true); tests drive it with `inject()` instead. */
  listen?: boolean;
}

export interface Runtime {
  config: Config;
  database: DatabaseHandle;
  redis: RedisHandle;
  skills: SkillRegistry;
  app?: WebGuardApp;
  /** The address the API listens on, when this process serves it. */
  url?: string;
  /** Closes in order: HTTP, workers, queues, Redis, database. */
  close(): Promise<void>;
}

async function timed(check: () => Promise<unknown>) {
  const started = performance.now();
  try {
    await check();
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Starts the parts of WebGuard this process plays: every role shares the same database,
 * Redis, skill registry and job queues; the roles only differ in what they serve.
 */
export async function startRuntime(
  config: Config,
  roles: RuntimeRoles,
  logger: Logger,
): Promise<Runtime> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      try {
        await closer();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
    closers.length = 0;
  };

  try {
    // 1. Database: open and bring the schema up to date.
    const database = await openDatabase({ databaseUrl: config.databaseUrl, home: config.home });
    closers.push(() => database.close());
    await database.migrate();
    logger.info({ database: database.kind, location: database.location }, 'database ready');

    // 2. Redis: the configured one, or a private one started under the data folder.
    const redis = await connectRedis({ url: config.redisUrl, dataDir: config.home, logger });
    closers.push(() => redis.close());
    // The producer fails fast when Redis is down, so a trigger answers 503 instead of hanging.
    const producer = new Redis(redis.url, {
      connectionName: 'webguard:producer',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    producer.on('error', () => undefined);
    closers.push(async () => void producer.disconnect());
    const queues = new JobQueues(producer, config.queuePrefix);
    closers.push(() => queues.close());

    // 3. Skills: load from disk and mirror into skills_registry.
    const skills = new SkillRegistry({ dirs: [builtinSkillsDir(), ...config.skillPaths], logger });
    await skills.load();
    for (const problem of skills.errors()) logger.error({ skill: problem }, 'skill not loaded');
    const skillRows = new SkillRegistryRepository(database.db);
    await skillRows.sync(skills.list().map((skill) => skill.info));

    const repositories = {
      suites: new SuiteRepository(database.db),
      cases: new CaseRepository(database.db),
      executions: new ExecutionRepository(database.db),
      results: new ResultRepository(database.db),
    };
    const runtime: Runtime = { config, database, redis, skills, close };

    // 4. Workers for the queues this process serves.
    if (roles.workers.length > 0) {
      const concurrency = Object.fromEntries(
        QUEUE_NAMES.map((queue) => [queue, roles.concurrency ?? config.concurrency[queue]]),
      ) as Record<QueueName, number>;
      const pool: WorkerPool = startWorkerPool({
        queues: roles.workers,
        concurrency,
        connection: () => redis.createConnection('worker'),
        prefix: config.queuePrefix,
        deps: { ...repositories, skills, queues, logger },
        logger,
      });
      closers.push(() => pool.close());
    }

    // 5. The HTTP API.
    if (roles.api) {
      const readinessConnection = redis.createConnection('readiness');
      const readiness = async (): Promise<ReadinessResponse> => {
        const [db, redisCheck] = await Promise.all([
          timed(() => database.ping()),
          pingRedis(readinessConnection, 2_000),
        ]);
        const checks = { database: db, redis: redisCheck };
        return { status: db.ok && redisCheck.ok ? 'ok' : 'unavailable', checks };
      };
      const app = await buildApp({
        services: {
          ...repositories,
          executionService: new ExecutionService({ ...repositories, queues, logger }),
          skills,
          readiness,
        },
        bodyLimit: config.bodyLimit,
        version: VERSION,
        logger,
      });
      closers.push(() => app.close());
      runtime.app = app;
      if (roles.listen ?? true)
        runtime.url = await app.listen({ host: config.host, port: config.port });
    }
    return runtime;
  } catch (error) {
    await close();
    throw error;
  }
}
