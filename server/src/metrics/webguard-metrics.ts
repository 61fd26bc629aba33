import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUE_STATES, type Execution } from '@webguard/shared';
import type { ClusterStats } from './cluster-stats.js';

/** The design's buckets for a whole run's duration, in seconds. */
export const TEST_DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600];
/** HTTP latency buckets, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface WebGuardMetricsOptions {
  /** Cluster-wide gauges (queue depth, workers online), read on each scrape; API nodes only. */
  cluster?: Pick<ClusterStats, 'queueDepth' | 'workersOnline'>;
  /** This process runs workers: it reports `webguard_worker_up 1`. */
  worker: boolean;
  logger: Logger;
}

/**
 * The metrics of one process, in its own registry. Cluster-wide totals come from summing over
 * processes: the process that closes a run counts it, the process that runs a case counts it,
 * so nothing is counted twice. Labels are suite names, skill names, statuses, queues and route
 * patterns only, which keeps cardinality bounded by what is configured, not by traffic.
 */
export class WebGuardMetrics {
  readonly registry = new Registry();
  readonly executions: Counter<'suite_name' | 'status'>;
  readonly executionDuration: Histogram<'suite_name'>;
  readonly activeTests: Gauge;
  readonly skillResults: Counter<'skill' | 'status'>;
  readonly skillDuration: Histogram<'skill'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(options: WebGuardMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.executions = new Counter({
      name: 'webguard_test_executions_total',
      help: 'Test executions finished, by suite and final status.',
      labelNames: ['suite_name', 'status'],
      registers,
    });
    this.executionDuration = new Histogram({
      name: 'webguard_test_duration_seconds',
      help: 'Wall time of finished test executions, by suite.',
      labelNames: ['suite_name'],
      buckets: TEST_DURATION_BUCKETS,
      registers,
    });
    this.activeTests = new Gauge({
      name: 'webguard_active_tests',
      help: 'Test cases running in this process right now.',
      registers,
    });
    this.skillResults = new Counter({
      name: 'webguard_skill_results_total',
      help: 'Recorded case results, by skill and status.',
      labelNames: ['skill', 'status'],
      registers,
    });
    this.skillDuration = new Histogram({
      name: 'webguard_skill_duration_seconds',
      help: 'Duration of recorded case results, by skill.',
      labelNames: ['skill'],
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'webguard_worker_up',
      help: '1 in a process that runs workers.',
      registers,
    }).set(options.worker ? 1 : 0);

    const { cluster, logger } = options;
    if (!cluster) return;
    new Gauge({
      name: 'webguard_queue_jobs',
      help: 'Jobs per queue by state, cluster-wide (every API node reports the same value).',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        try {
          const depth = await cluster.queueDepth();
          for (const [queue, byState] of Object.entries(depth))
            for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
        } catch (error) {
          logger.warn({ err: error }, 'queue depth not collected');
        }
      },
    });
    new Gauge({
      name: 'webguard_workers_online',
      help: 'Worker processes that reported in the last 30 s, cluster-wide.',
      registers,
      async collect() {
        try {
          this.set(await cluster.workersOnline());
        } catch (error) {
          logger.warn({ err: error }, 'workers online not collected');
        }
      },
    });
  }

  /** Counted once per run, by the process that closed it. */
  executionFinished(execution: Execution): void {
    this.executions.inc({ suite_name: execution.suite_name, status: execution.status });
    if (execution.execution_time_ms !== null)
      this.executionDuration.observe(
        { suite_name: execution.suite_name },
        execution.execution_time_ms / 1000,
      );
  }

  /** Marks a case running in this process; call the result when it ends. */
  caseStarted(): () => void {
    this.activeTests.inc();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.activeTests.dec();
    };
  }

  caseRecorded(skill: string, status: string, durationMs: number): void {
    this.skillResults.inc({ skill, status });
    this.skillDuration.observe({ skill }, durationMs / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
