import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WebGuardMetrics } from './webguard-metrics.js';

/** The Prometheus and Grafana files shipped in resources/, checked with the real tools. */
const RESOURCES = fileURLToPath(new URL('../../../resources/', import.meta.url));
const run = promisify(execFile);

async function promtool(...args: string[]) {
  try {
    return await run('promtool', args, { cwd: `${RESOURCES}prometheus` });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT')
      throw new Error('promtool is not installed: apt-get install prometheus (it ships promtool)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout}${failure.stderr}`);
  }
}

/** Every series name WebGuard exports, as Prometheus sees it (histograms as their parts). */
function exportedNames(): Set<string> {
  const metrics = new WebGuardMetrics({
    worker: true,
    // Only the names are read: nothing is collected, so these are never called.
    cluster: {
      queueDepth: () => Promise.reject(new Error('not collected in this test')),
      workersOnline: () => Promise.reject(new Error('not collected in this test')),
    },
    logger: pino({ level: 'silent' }),
  });
  const names = new Set<string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram')
      for (const part of ['_bucket', '_sum', '_count']) names.add(name + part);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'absent',
]);

/** The series names a PromQL expression reads: labels, strings, ranges and functions removed. */
function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return (bare.match(/[a-zA-Z_:][\w:]*/g) ?? []).filter((word) => !PROMQL_WORDS.has(word));
}

describe('resources/prometheus', () => {
  it('passes promtool check config (with its rule file) and check rules', async () => {
    const config = await promtool('check', 'config', 'prometheus.yml');
    expect(config.stdout).toContain('SUCCESS: prometheus.yml is valid');
    const rules = await promtool('check', 'rules', 'alerts.yml');
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fires each alert on the series that should fire it (promtool test rules)', async () => {
    const result = await promtool('test', 'rules', 'alerts.test.yml');
    expect(result.stdout).toContain('SUCCESS');
  });

  it('alerts only on metric names WebGuard exports', () => {
    const names = exportedNames();
    const alerts = readFileSync(`${RESOURCES}prometheus/alerts.yml`, 'utf8');
    const used = [...alerts.matchAll(/webguard_\w+|http_\w+/g)].map((match) => match[0]);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('resources/grafana', () => {
  interface Panel {
    title: string;
    datasource: { uid: string };
    targets: { expr: string }[];
  }

  const dashboard = JSON.parse(
    readFileSync(`${RESOURCES}grafana/dashboards/webguard.json`, 'utf8'),
  ) as { uid: string; title: string; panels: Panel[] };

  it("has the design's panels on the provisioned datasource", () => {
    const datasource = readFileSync(
      `${RESOURCES}grafana/provisioning/datasources/prometheus.yml`,
      'utf8',
    );
    const uid = /uid:\s*(\S+)/.exec(datasource)?.[1];
    expect(uid).toBe('webguard-prometheus');
    expect(dashboard.panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Pass rate by suite',
        'P95 run duration by suite',
        'Active tests',
        'Queue depth',
        'Throughput by status',
        'API latency P95 by route',
      ]),
    );
    for (const panel of dashboard.panels) expect(panel.datasource.uid, panel.title).toBe(uid);
    const provider = readFileSync(
      `${RESOURCES}grafana/provisioning/dashboards/webguard.yml`,
      'utf8',
    );
    expect(provider).toContain('path: /var/lib/grafana/dashboards');
  });

  it('queries only metric names that exist', () => {
    const names = exportedNames();
    const unknown = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) =>
        seriesIn(target.expr)
          .filter((name) => !names.has(name))
          .map((name) => `${panel.title}: ${name}`),
      ),
    );
    expect(unknown).toEqual([]);
    const all = dashboard.panels.flatMap((panel) => panel.targets.flatMap((t) => seriesIn(t.expr)));
    expect(new Set(all)).toEqual(
      new Set([
        'webguard_test_executions_total',
        'webguard_test_duration_seconds_bucket',
        'webguard_active_tests',
        'webguard_workers_online',
        'webguard_queue_jobs',
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'webguard_skill_results_total',
        'process_resident_memory_bytes',
      ]),
    );
  });
});
