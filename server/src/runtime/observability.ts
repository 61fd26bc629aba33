import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { FramePublisher, LiveKeys, RunEventPublisher } from '../live/index.js';
import { ClusterStats, RealtimeStats, WebGuardMetrics, WorkerPresence } from '../metrics/index.js';
import type { JobQueues } from '../queues/job-queues.js';
import type { RedisHandle } from '../redis/index.js';

/** What every role shares to be watched: live events, metrics and real-time stats. */
export interface Observability {
  keys: LiveKeys;
  events: RunEventPublisher;
  frames: FramePublisher;
  metrics: WebGuardMetrics;
  stats: RealtimeStats;
  cluster: ClusterStats;
  /** Set in processes that run workers. */
  presence: WorkerPresence | undefined;
  close(): Promise<void>;
}

export async function openObservability(options: {
  config: Config;
  db: Database;
  redis: RedisHandle;
  queues: JobQueues;
  roles: { api: boolean; worker: boolean };
  logger: Logger;
}): Promise<Observability> {
  const { config, db, redis, queues, roles, logger } = options;
  const prefix = config.queuePrefix;
  const keys = new LiveKeys(prefix);
  const connection = redis.createConnection('observability', { autoPipelining: true });
  const cluster = new ClusterStats({ db, queues, redis: connection, prefix });
  const publisher = redis.createConnection('live-publisher', { autoPipelining: true });
  const events = new RunEventPublisher(publisher, keys, {
    maxLen: config.observability.streamMaxLen,
    ttlSeconds: config.observability.streamTtlSeconds,
    logger,
  });
  const metrics = new WebGuardMetrics({
    cluster: roles.api ? cluster : undefined,
    worker: roles.worker,
    logger,
  });
  const presence = roles.worker ? new WorkerPresence(connection, prefix, logger) : undefined;
  await presence?.beat();
  return {
    keys,
    events,
    frames: new FramePublisher(connection, keys, config.observability.frameFps, logger),
    metrics,
    stats: new RealtimeStats(connection, prefix, logger),
    cluster,
    presence,
    async close() {
      await presence?.close();
    },
  };
}
