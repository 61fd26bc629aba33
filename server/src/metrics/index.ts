export { ClusterStats } from './cluster-stats.js';
export { httpMetrics } from './http-metrics.js';
export { startMetricsServer } from './metrics-server.js';
export { RealtimeStats, type SuiteCounters } from './realtime-stats.js';
export { countWorkersOnline, WorkerPresence } from './worker-presence.js';
export {
  HTTP_DURATION_BUCKETS,
  TEST_DURATION_BUCKETS,
  WebGuardMetrics,
  type WebGuardMetricsOptions,
} from './webguard-metrics.js';
