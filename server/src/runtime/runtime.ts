import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ReadinessResponse } from '@webguard/shared';
import { buildApp, type WebGuardApp } from '../api/app.js';
import {
  ArtifactService,
  LinkSigner,
  openArtifactStore,
  scheduleArtifactRetention,
} from '../artifacts/index.js';
import { AccessControl, AuthService, TokenSigner } from '../auth/index.js';
import type { Config } from '../config.js';
import { ArtifactRepository } from '../db/artifact-repository.js';
import { CaseLedger } from '../db/case-ledger.js';
import {
  AuthRepository,
  CaseRepository,
  ReportRepository,
  QuarantineRepository,
  NotificationRepository,
  EnvironmentRepository,
  ExecutionRepository,
  openDatabase,
  SkillRegistryRepository,
  SuiteRepository,
  type DatabaseHandle,
} from '../db/index.js';
import { DEFAULT_BATCH_LIMITS } from '../orchestration/case-batches.js';
import { CancelBus, RunningCases } from '../orchestration/cancel-bus.js';
import { ExecutionCoordinator } from '../orchestration/execution-coordinator.js';
import { SecretBox } from '../orchestration/secret-box.js';
import {
  EXECUTIONS_QUEUE,
  QUEUE_NAMES,
  SCHEDULES_QUEUE,
  type QueueName,
} from '../queues/job-catalog.js';
import { JobQueues } from '../queues/job-queues.js';
import { connectRedis, pingRedis, type RedisHandle } from '../redis/index.js';
import { InProcessEngine, SkillSandbox, type CaseEngine } from '../sandbox/index.js';
import { ExecutionService } from '../services/execution-service.js';
import { ScheduleService } from '../services/schedule-service.js';
import { builtinSkillsDir, SkillRegistry, SkillReloader } from '../skills/index.js';
import { startWorkerPool } from '../workers/worker-pool.js';
import { NotificationService } from '../notifications/index.js';
import { keepRecurringJobs } from './recurring-jobs.js';
import { loadSecretKey } from './secret-key.js';
import { VERSION } from './version.js';
import { sharedTokenAuthenticator, startLiveServer, type LiveServer } from '../live/index.js';
import { startMetricsServer, type WebGuardMetrics } from '../metrics/index.js';
import { openObservability } from './observability.js';
import { ExecutionTraces, startTracing } from '../telemetry/index.js';

export interface RuntimeRoles {
  /** Serve the REST API on config.host:config.port. */
  api: boolean;
  /** Queues this process works on (empty: none). */
  workers: QueueName[];
  /** Keep cron schedules in sync with the suites (the `scheduler` role). */
  scheduler?: boolean;
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
  coordinator: ExecutionCoordinator;
  queues: JobQueues;
  app?: WebGuardApp;
  /** This process's Prometheus metrics. */
  metrics: WebGuardMetrics;
  /** Socket.IO `/live`, when this process serves the API. */
  live?: LiveServer;
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
    const db = database.db;
    const accounts = new AuthRepository(db);
    const auth = new AuthService(
      accounts,
      new TokenSigner(loadSecretKey(config), {
        access: config.auth.accessTokenTtl,
        refresh: config.auth.refreshTokenTtl,
      }),
      logger,
      config.auth.refreshReuseGraceSeconds,
    );
    // The first start of a fresh database creates the administrator.
    const admin = await auth.bootstrapAdmin({
      email: config.auth.adminEmail,
      password: config.auth.adminPassword,
    });
    if (admin.generatedPassword)
      // Printed once, to the terminal only: it must not end up in the structured logs.
      process.stderr.write(
        `\nWebGuard created the administrator ${config.auth.adminEmail} with the password\n\n    ${admin.generatedPassword}\n\nIt is shown only this once. Sign in and change it (PATCH /api/v1/users/{id}).\n\n`,
      );

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

    // 3. Skills: load from disk, mirror into skills_registry, reload on request or on edit.
    const skillDirs = [builtinSkillsDir(), ...config.skillPaths];
    const skills = new SkillRegistry({ dirs: skillDirs, logger });
    const skillRegistryRows = new SkillRegistryRepository(db);
    const skillReloader = new SkillReloader({
      registry: skills,
      record: (infos) => skillRegistryRows.sync(infos),
      publisher: redis.createConnection('skills-publisher'),
      prefix: config.queuePrefix,
      logger,
    });
    closers.push(async () => skillReloader.close());
    await skillReloader.reload('start');
    await skillReloader.listen(redis.createConnection('skills-subscriber'));
    if (config.watchSkills) skillReloader.watch(skillDirs);

    // 4. The orchestration shared by every role, publishing live events, metrics and traces.
    const tracing = startTracing({
      endpoint: config.observability.otlpEndpoint,
      serviceName: config.observability.serviceName,
      version: VERSION,
      role: [
        roles.api && 'api',
        roles.workers.length > 0 && 'worker',
        roles.scheduler && 'scheduler',
      ]
        .filter(Boolean)
        .join('+'),
      logger,
    });
    closers.push(() => tracing.close());
    const traces = new ExecutionTraces(
      redis.createConnection('traces'),
      config.queuePrefix,
      tracing.enabled,
      logger,
    );
    const observability = await openObservability({
      config,
      db,
      redis,
      queues,
      roles: { api: roles.api, worker: roles.workers.length > 0 },
      logger,
    });
    closers.push(() => observability.close());
    const { events, metrics } = observability;
    const cancelBus = new CancelBus(redis.createConnection('cancel-publisher'), config.queuePrefix);
    const coordinator = new ExecutionCoordinator({
      db,
      queues,
      skills,
      cancelBus,
      logger,
      events,
      batchLimits: { ...DEFAULT_BATCH_LIMITS, maxCases: config.casesPerJob },
      onExecutionFinished: (execution) => {
        metrics.executionFinished(execution);
        void observability.stats.executionFinished(execution);
      },
    });
    const environments = new EnvironmentRepository(db, new SecretBox(loadSecretKey(config)));
    const executionService = new ExecutionService({
      db,
      environments,
      coordinator,
      queues,
      skills,
      defaultRetries: config.retries.defaultRetries,
      logger,
      events,
      traces,
    });
    const notificationRows = new NotificationRepository(db);
    const notifications = new NotificationService({
      db,
      repository: notificationRows,
      box: new SecretBox(loadSecretKey(config)),
      queues,
      logger,
    });
    const schedules = new ScheduleService({
      queues,
      defaultTimezone: config.scheduleTimezone,
      logger,
    });
    const suites = new SuiteRepository(db);
    // Workers write artifacts and the API serves them, so every role opens the store.
    const artifacts = {
      store: await openArtifactStore(config.artifacts),
      repository: new ArtifactRepository(db),
    };
    logger.info(
      { store: artifacts.store.kind, location: artifacts.store.location },
      'artifact store ready',
    );
    const runtime: Runtime = {
      config,
      database,
      redis,
      skills,
      coordinator,
      queues,
      metrics,
      close,
    };

    // 5. Workers for the queues this process serves, aborting cases when any process cancels.
    const served: QueueName[] = roles.scheduler
      ? [...roles.workers, SCHEDULES_QUEUE]
      : roles.workers;
    if (served.length > 0) {
      const running = new RunningCases();
      await cancelBus.subscribe(
        redis.createConnection('cancel-subscriber'),
        (executionId) => {
          const aborted = running.abort(executionId);
          if (aborted > 0)
            logger.info({ execution_id: executionId, cases: aborted }, 'aborting running cases');
        },
        logger,
      );
      const concurrency = Object.fromEntries(
        QUEUE_NAMES.map((queue) => [queue, roles.concurrency ?? config.concurrency[queue]]),
      ) as Record<QueueName, number>;
      // One Chromium for this process's browser cases; the engine is closed after the workers
      // have drained.
      const engine = await createCaseEngine(config, served.includes('browser'), logger);
      closers.push(() => engine.close());
      const pool = startWorkerPool({
        queues: served,
        concurrency,
        connection: () => redis.createConnection('worker'),
        prefix: config.queuePrefix,
        stalledIntervalMs: config.stalledIntervalMs,
        deps: {
          db,
          ledger: new CaseLedger(db),
          coordinator,
          environments,
          skills,
          queues,
          running,
          retry: config.retries,
          executionService,
          notifications,
          logger,
          engine,
          artifacts,
          events,
          metrics,
          frames: observability.frames,
          traces,
        },
        logger,
      });
      closers.push(() => pool.close());
      // A worker-only process serves its metrics on its own port; with the API, /metrics does.
      const metricsPort = config.observability.metricsPort;
      if (!roles.api && metricsPort !== undefined) {
        const endpoint = await startMetricsServer(metrics, {
          host: config.host,
          port: metricsPort,
          token: config.auth.metricsToken,
          logger,
        });
        closers.push(() => endpoint.close());
      }
    }
    // Recurring jobs live in Redis: written now, and again if Redis comes back without its data.
    const reaps = roles.workers.includes(EXECUTIONS_QUEUE);
    if (reaps || roles.scheduler) {
      const recurring = await keepRecurringJobs({
        install: async () => {
          if (reaps) {
            // One reaper tick per interval for the whole cluster: the scheduler id is shared.
            await queues
              .queue(EXECUTIONS_QUEUE)
              .upsertJobScheduler(
                'reaper',
                { every: config.reaperIntervalMs },
                { name: 'reap-executions', data: {} },
              );
            await scheduleArtifactRetention(
              queues.queue(EXECUTIONS_QUEUE),
              config.artifacts.retentionDays,
            );
          }
          if (roles.scheduler) await schedules.syncAll(await suites.all());
        },
        markerKey: `${config.queuePrefix}:recurring-jobs:${reaps ? 'reaper' : ''}${roles.scheduler ? 'schedules' : ''}`,
        everyMs: Math.min(config.reaperIntervalMs, 30_000),
        redis: producer,
        logger,
      });
      closers.push(async () => recurring.close());
    }

    // 6. The HTTP API.
    if (roles.api) {
      const readinessConnection = redis.createConnection('readiness');
      const readiness = async (): Promise<ReadinessResponse> => {
        const [dbCheck, redisCheck] = await Promise.all([
          timed(() => database.ping()),
          pingRedis(readinessConnection, 2_000),
        ]);
        return {
          status: dbCheck.ok && redisCheck.ok ? 'ok' : 'unavailable',
          checks: { database: dbCheck, redis: redisCheck },
        };
      };
      // Rate-limit counters fail fast when Redis is down instead of holding requests.
      const rateLimitRedis = new Redis(redis.url, {
        connectionName: 'webguard:rate-limit',
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
      });
      rateLimitRedis.on('error', () => undefined);
      closers.push(async () => void rateLimitRedis.disconnect());
      const app = await buildApp({
        trustProxy: config.auth.trustProxy,
        requestTimeoutMs: config.auth.requestTimeoutMs,
        metricsToken: config.auth.metricsToken,
        security: {
          corsOrigins: config.auth.corsOrigins,
          loginRateLimit: config.auth.loginRateLimit,
          triggerRateLimit: config.auth.triggerRateLimit,
          redis: rateLimitRedis,
          keyPrefix: config.queuePrefix,
        },
        services: {
          auth,
          accounts,
          access: new AccessControl(db),
          reports: new ReportRepository(db),
          quarantines: new QuarantineRepository(db),
          notifications,
          notificationRows,
          suites,
          cases: new CaseRepository(db),
          executions: new ExecutionRepository(db),
          environments,
          executionService,
          coordinator,
          schedules,
          skills,
          skillReloader,
          artifacts: new ArtifactService(
            artifacts.repository,
            artifacts.store,
            new LinkSigner(loadSecretKey(config)),
          ),
          readiness,
        },
        bodyLimit: config.bodyLimit,
        version: VERSION,
        logger,
        metrics,
      });
      closers.push(() => app.close());
      runtime.app = app;
      // Live data shares the API's port; it closes before the HTTP server so clients let go.
      const liveExecutions = new ExecutionRepository(db);
      const liveAccess = new AccessControl(db);
      const live = await startLiveServer({
        httpServer: app.server,
        redis,
        keys: observability.keys,
        authenticate: sharedTokenAuthenticator(config.observability.liveToken, (token) =>
          auth.authenticate(token),
        ),
        // Users and API tokens see the runs of their projects only, as on the REST API.
        canWatch: async (executionId, principal) => {
          if (!principal.access) return (await liveExecutions.find(executionId)) !== undefined;
          try {
            await liveAccess.execution(principal.access, executionId, 'viewer');
            return true;
          } catch {
            return false;
          }
        },
        snapshot: () => observability.cluster.snapshot(),
        tickMs: config.observability.tickMs,
        logger,
      });
      closers.push(() => live.close());
      runtime.live = live;
      if (roles.listen ?? true)
        runtime.url = await app.listen({ host: config.host, port: config.port });
    }
    return runtime;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * How this worker runs skill code: in sandbox threads unless configured otherwise. Playwright
 * takes seconds to load on a small machine, so only a worker that serves browser cases loads it.
 */
async function createCaseEngine(
  config: Config,
  browsers: boolean,
  logger: Logger,
): Promise<CaseEngine> {
  const browserOptions = { ...config.browser, logger };
  const browser = browsers ? await import('../engine/browser/index.js') : undefined;
  if (config.skillIsolation.mode === 'none')
    return new InProcessEngine(browser && new browser.BrowserPool(browserOptions));
  return new SkillSandbox({
    memoryMb: config.skillIsolation.memoryMb,
    browser: browser && new browser.BrowserHost(browserOptions),
    logger,
  });
}
