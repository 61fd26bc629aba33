/**
 * bench/browser-parallel: 50 browser cases (open a local page, fill a form, check the answer,
 * take a screenshot) through WebGuard — REST trigger, BullMQ browser queue, engine, the script
 * as a skill (skills/bench-greet), artifacts on disk, results in PostgreSQL — against the same 50
 * scripts run directly with Playwright, at the same concurrency on the same Chromium with the
 * same flags, in one run.
 * Rounds alternate so neither side gets a warmer machine.
 * Usage: npm run build && npm run bench -- browser-parallel [--cases 50] [--concurrency N]
 *   [--rounds 2] [--trace off|on-failure|always] [--isolation thread|none]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../server/src/config.js';
import {
  BrowserPool,
  CHROMIUM_FLAGS,
  findChromium,
} from '../../server/src/engine/browser/index.js';
import { runCase } from '../../server/src/engine/index.js';
import benchGreet, { greet } from './skills/bench-greet/skill.js';
import { startTestRuntime, type TestRuntime } from '../../server/test/support/test-runtime.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '50' },
    concurrency: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    // WebGuard's trace mode, to measure what tracing costs (the direct scripts never trace).
    trace: { type: 'string', default: 'off' },
    // How the worker runs skills: in sandbox threads (the default) or in its own thread.
    isolation: { type: 'string', default: 'thread' },
  },
});
const CASES = Number(values.cases);
const ROUNDS = Number(values.rounds);
// The default is WebGuard's own default browser concurrency.
const CONCURRENCY = Number(values.concurrency ?? loadConfig({}).concurrency.browser);

const PAGE = `<!doctype html><html><head><title>Sign up</title></head><body>
  <input id="name" aria-label="Name">
  <button onclick="document.querySelector('#greeting').textContent = 'Hello ' + document.querySelector('#name').value">Greet</button>
  <p id="greeting"></p></body></html>`;

const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

/**
 * Memory in bytes: this process's RSS, and the proportional set size (PSS) of every Chromium
 * process it started, so what the Chromium processes share is counted once, not once each.
 */
function memory(): { worker: number; chromium: number } {
  const parents = new Map<number, number>();
  const pss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const rollup = readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8');
      pss.set(Number(entry), Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024);
    } catch {
      // The process ended while we looked.
    }
  }
  const descends = (pid: number): boolean => {
    for (
      let current = parents.get(pid);
      current !== undefined && current > 1;
      current = parents.get(current)
    ) {
      if (current === process.pid) return true;
    }
    return false;
  };
  let browsers = 0;
  for (const [pid, bytes] of pss) if (descends(pid)) browsers += bytes;
  return { worker: process.memoryUsage().rss, chromium: browsers };
}

/** Samples memory while `work` runs and returns its result with the peaks. */
async function sampled<T>(work: () => Promise<T>) {
  const peak = { worker: 0, total: 0 };
  const sample = () => {
    const now = memory();
    peak.worker = Math.max(peak.worker, now.worker);
    peak.total = Math.max(peak.total, now.worker + now.chromium);
  };
  const timer = setInterval(sample, 1_000);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
  }
}

interface Round {
  wallMs: number;
  durations: number[];
}

/** The baseline: each case as a plain Playwright script, N at a time on one browser. */
async function direct(browser: Browser, url: string, count: number): Promise<Round> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const caseStart = performance.now();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await greet(page, { url, index }, () => page.screenshot({ type: 'png' }));
      } finally {
        await context.close();
      }
      durations.push(performance.now() - caseStart);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return { wallMs: performance.now() - started, durations };
}

/**
 * The same cases through the engine alone (no queue, no database), to tell the
 * engine's share of the overhead from the platform's.
 */
async function engineOnly(pool: BrowserPool, url: string, count: number): Promise<Round> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const outcome = await runCase({
        skill: benchGreet,
        params: { url, index },
        caseName: `case ${index}`,
        executionId: null,
        timeoutMs: 60_000,
        browsers: pool,
        artifacts: { add: async () => undefined },
      });
      if (outcome.status !== 'passed') throw new Error(`engine case: ${outcome.error_message}`);
      durations.push(outcome.execution_time_ms);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return { wallMs: performance.now() - started, durations };
}

/** The same cases as cases of one suite, triggered and awaited over the API. */
async function throughWebGuard(
  t: TestRuntime,
  sql: pg.Client,
  url: string,
  count: number,
  name: string,
): Promise<Round> {
  const post = async (path: string, payload: object) => {
    const response = await t.inject({ method: 'POST', url: path, payload });
    if (response.statusCode >= 300) throw new Error(`${path}: ${response.body}`);
    return response.json() as { id: number; execution_id: number };
  };
  const suite = await post('/api/v1/suites', { name, max_concurrent_tests: count });
  for (let index = 0; index < count; index++) {
    await post(`/api/v1/suites/${suite.id}/cases`, {
      name: `case ${index}`,
      skill_name: 'bench-greet',
      params: { url, index },
    });
  }
  const started = performance.now();
  const { execution_id } = await post('/api/v1/executions', { suite_id: suite.id });
  // Completion is watched on the execution's row: polling the API's full results four times a
  // second would put the bench's own reads on the worker's thread, which the cases need.
  for (;;) {
    const { rows } = await sql.query<{ done: boolean }>(
      'SELECT completed_at IS NOT NULL AS done FROM test_executions WHERE id = $1',
      [execution_id],
    );
    if (rows[0]?.done) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const wallMs = performance.now() - started;
  const execution = (await t.inject(`/api/v1/executions/${execution_id}`)).json() as {
    results: { status: string; execution_time_ms: number }[];
  };
  const failed = execution.results.filter((result) => result.status !== 'passed');
  if (failed.length > 0) throw new Error(`${failed.length} WebGuard cases did not pass`);
  return { wallMs, durations: execution.results.map((result) => result.execution_time_ms) };
}

const server: Server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const t = await startTestRuntime(
  {
    WEBGUARD_CONCURRENCY_BROWSER: String(CONCURRENCY),
    WEBGUARD_SKILLS_PATHS: fileURLToPath(new URL('./skills', import.meta.url)),
    PATH: process.env.PATH ?? '',
    WEBGUARD_TRACE: values.trace,
    WEBGUARD_SKILL_ISOLATION: values.isolation,
    LOG_LEVEL: 'warn',
  },
  { workers: ['executions', 'browser'], scheduler: false },
);
const executablePath = findChromium({ searchPath: process.env.PATH ?? '' }).path;
const browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
const enginePool = new BrowserPool({ searchPath: process.env.PATH ?? '' });
const sql = new pg.Client({ connectionString: t.database.url });
await sql.connect();
try {
  // Warm every side up: browsers launched, code paths compiled.
  await direct(browser, url, CONCURRENCY);
  await engineOnly(enginePool, url, CONCURRENCY);
  await throughWebGuard(t, sql, url, CONCURRENCY, 'warm-up');
  const idle = memory();

  const webguard: Round[] = [];
  const baseline: Round[] = [];
  const engine: Round[] = [];
  let peak = { worker: 0, total: 0 };
  const sides = [
    { rounds: baseline, run: (count: number) => direct(browser, url, count) },
    { rounds: engine, run: (count: number) => engineOnly(enginePool, url, count) },
    {
      rounds: webguard,
      run: (count: number, name: string) => throughWebGuard(t, sql, url, count, name),
      sampledPeak: true,
    },
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    // Odd rounds run the sides in one order, even rounds in the other, so a machine that gets
    // busier or quieter during the run weighs on every side alike.
    for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
      // A few cases first, as on a worker that has been busy: a sandbox thread idle for a
      // minute (while the other sides ran) has been stopped and would start within the clock.
      await side.run(CONCURRENCY, `warm-${round}`);
      // Every side is sampled alike: reading /proc takes CPU from whatever runs meanwhile.
      const measured = await sampled(() => side.run(CASES, `round-${round}`));
      side.rounds.push(measured.result);
      if (side.sampledPeak) {
        peak = {
          worker: Math.max(peak.worker, measured.peak.worker),
          total: Math.max(peak.total, measured.peak.total),
        };
      }
    }
    console.log(
      `round ${round}: direct ${Math.round(baseline.at(-1)!.wallMs)} ms, engine only ${Math.round(engine.at(-1)!.wallMs)} ms, WebGuard ${Math.round(webguard.at(-1)!.wallMs)} ms`,
    );
  }

  const webguardMs = mean(webguard.map((round) => round.wallMs));
  const directMs = mean(baseline.map((round) => round.wallMs));
  const perTest = (peak.total - (idle.worker + idle.chromium)) / CONCURRENCY;
  console.log(
    `browser-parallel: cases=${CASES} concurrency=${CONCURRENCY} rounds=${ROUNDS} trace=${values.trace} isolation=${values.isolation}` +
      ` webguard_ms=${Math.round(webguardMs)}` +
      ` engine_only_ms=${Math.round(mean(engine.map((round) => round.wallMs)))}` +
      ` direct_ms=${Math.round(directMs)}` +
      ` p95_case_ms=${Math.round(p95(webguard.flatMap((round) => round.durations)))}` +
      ` p95_direct_case_ms=${Math.round(p95(baseline.flatMap((round) => round.durations)))}` +
      ` peak_worker_rss_mb=${mb(peak.worker)} peak_total_mb=${mb(peak.total)}` +
      ` mb_per_concurrent_test=${mb(perTest)} ratio=${(webguardMs / directMs).toFixed(2)}`,
  );
} finally {
  await browser.close();
  await enginePool.close();
  await sql.end();
  await t.stop();
  server.close();
}
