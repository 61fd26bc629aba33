/**
 * bench/dispatch: 1,000 no-op cases (the `noop` fixture skill) through WebGuard (trigger →
 * results in PostgreSQL) against 1,000 no-op jobs through bare BullMQ on the same Redis with the
 * same worker concurrency, in one run, and against BullMQ jobs that each write one result row to
 * PostgreSQL. All three are set up and warmed first (a worker that has been up a while; for
 * WebGuard a suite that has run before, so its quick cases share jobs), run WARM_ROUNDS untimed
 * rounds in turns, then are measured in turns, ROUNDS times: each WebGuard round is compared
 * with the rounds of the others just before it, and the median of those ratios reported, since
 * this machine's speed drifts over a run. Usage: npm run build && npm run bench -- dispatch
 * [cases] [concurrency] [thread|none] [max_concurrent_tests] [cases_per_job] [rounds]
 * [warm_rounds] [skill]
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { LiveKeys } from '../../server/src/live/keys.js';
import { executionCases, testCases } from '../../server/src/db/schema.js';
import { createTestDatabase } from '../../server/test/support/postgres.js';
import { startTestRuntime, type TestRuntime } from '../../server/test/support/test-runtime.js';

const CASES = Number(process.argv[2] ?? 1000);
const CONCURRENCY = Number(process.argv[3] ?? 10);
/** How workers run skills: `thread` (the default, sandboxed) or `none` (in the worker). */
const ISOLATION = process.argv[4] ?? 'thread';
/**
 * The suite's max_concurrent_tests: 1000 lets every case queue at once; a small one makes the
 * coordinator start the next case each time one ends.
 */
const MAX_CONCURRENT_TESTS = Number(process.argv[5] ?? 1000);
/** WEBGUARD_CASES_PER_JOB: 20 is the default; 1 gives every case a job of its own. */
const CASES_PER_JOB = Number(process.argv[6] ?? 20);
const ROUNDS = Number(process.argv[7] ?? 9);
/**
 * Rounds each side runs, in turns, before the measured ones: a worker that has been up a while
 * runs code the JIT has optimized, which takes WebGuard's many code paths a few runs to reach.
 */
const WARM_ROUNDS = Number(process.argv[8] ?? 3);
/**
 * The fixture skill every case runs: `noop` does nothing, as the issue sets the bench; `echo`
 * also records a step and a log line, which WebGuard streams live and stores with the result.
 */
const SKILL = process.argv[9] ?? 'noop';
if (!['noop', 'echo'].includes(SKILL)) throw new Error(`skill must be noop or echo, not ${SKILL}`);
const REDIS_URL = process.env.WEBGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** CPU ms a process has used, from /proc (Linux only; clock ticks of 10 ms). */
function processCpuMs(pid: string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU time (ms) used so far by this process (all its threads), by the PostgreSQL backends
 * serving `database`, and by the Redis server. On a shared 2-core machine wall time swings with
 * whatever else runs; CPU per case says what dispatch itself costs.
 */
function cpuMs(database?: string): { node: number; postgres: number; redis: number } {
  const { user, system } = process.cpuUsage();
  let postgres = 0;
  let redis = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis-server')) {
        redis += processCpuMs(pid);
      } else if (
        database &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)
      ) {
        postgres += processCpuMs(pid);
      }
    } catch {
      // The process ended while being read.
    }
  }
  return { node: (user + system) / 1000, postgres, redis };
}

/** CPU ms per case between two readings. */
function cpuPerCase(
  before: ReturnType<typeof cpuMs>,
  after: ReturnType<typeof cpuMs>,
): ReturnType<typeof cpuMs> {
  return {
    node: (after.node - before.node) / CASES,
    postgres: (after.postgres - before.postgres) / CASES,
    redis: (after.redis - before.redis) / CASES,
  };
}

const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
};

/** What one round of one side measured. */
interface Round {
  perSecond: number;
  p95Ms: number;
  /** CPU ms per case: this process, the database's backends, the Redis server. */
  cpu: ReturnType<typeof cpuMs>;
}

/** A contestant: set up once, then measured round after round. */
interface Side {
  round(): Promise<Round>;
  close(): Promise<void>;
}

/**
 * The baseline: no-op jobs through BullMQ alone. With `database`, each job also writes one
 * result row to PostgreSQL (idempotently, as a redelivered job would), the least a hand-written
 * pipeline does to keep its results: a reference point for what durability alone costs.
 */
async function bareBullmq(database?: { url: string; name: string }): Promise<Side> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  const events = new QueueEvents('noop', {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
  });
  await events.waitUntilReady();
  const pool = database && new pg.Pool({ connectionString: database.url, max: CONCURRENCY });
  await pool?.query(
    'CREATE TABLE results (job_id text PRIMARY KEY, status text NOT NULL, data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
  );
  let latencies: number[] = [];
  let done = 0;
  let roundDone = () => {};
  events.on('completed', () => {
    if (++done === CASES) roundDone();
  });
  const worker = new Worker(
    'noop',
    async (job: Job) => {
      latencies.push(Date.now() - job.timestamp);
      await pool?.query(
        'INSERT INTO results (job_id, status, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [job.id, 'passed', JSON.stringify(job.data)],
      );
    },
    {
      connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: CONCURRENCY,
    },
  );
  const round = async (): Promise<Round> => {
    latencies = [];
    done = 0;
    const allDone = new Promise<void>((resolve) => (roundDone = resolve));
    const started = performance.now();
    const cpuBefore = cpuMs(database?.name);
    await queue.addBulk(Array.from({ length: CASES }, (_, i) => ({ name: 'noop', data: { i } })));
    await allDone;
    const seconds = (performance.now() - started) / 1000;
    return {
      perSecond: CASES / seconds,
      p95Ms: p95(latencies),
      cpu: cpuPerCase(cpuBefore, cpuMs(database?.name)),
    };
  };
  await round();
  return {
    round,
    async close() {
      await worker.close();
      await pool?.end();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    },
  };
}

/**
 * A short run of another suite first, so the suite's first run is not also the worker's: its
 * sandbox threads start and load the engine here.
 */
async function warmUp(t: TestRuntime): Promise<void> {
  const cases = Array.from({ length: CONCURRENCY * 2 }, (_, i) => ({
    name: `warm-${i}`,
    skill_name: SKILL,
    params: {},
  }));
  const suiteId = await t.suiteWith({ name: 'warm-up', max_concurrent_tests: CONCURRENCY }, cases);
  const id = (
    await t.inject({ method: 'POST', url: '/api/v1/executions', payload: { suite_id: suiteId } })
  ).json().execution_id as number;
  while (!(await t.inject(`/api/v1/executions/${id}`)).json().completed_at)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * WebGuard: one suite of no-op cases, triggered through the REST API, results in PostgreSQL.
 * Each round is a run of the suite; its first run is measured at set-up and reported too.
 */
async function webguard(): Promise<Side & { firstRun: Round }> {
  const t = await startTestRuntime(
    {
      WEBGUARD_CONCURRENCY_API: String(CONCURRENCY),
      WEBGUARD_SKILL_ISOLATION: ISOLATION,
      WEBGUARD_CASES_PER_JOB: String(CASES_PER_JOB),
    },
    { workers: ['executions', 'api'], scheduler: false },
  );
  // The end of a run is heard as its `execution.finished` live event, as the dashboard hears it.
  const subscriber = new Redis(REDIS_URL);
  const finished = new Map<number, () => void>();
  subscriber.on('message', (_channel: string, message: string) => {
    const event = JSON.parse(message) as { type: string; execution_id: number };
    if (event.type === 'execution.finished') finished.get(event.execution_id)?.();
  });
  await subscriber.subscribe(new LiveKeys(t.config.queuePrefix).executionsChannel);
  await warmUp(t);
  const suite = (
    await t.inject({
      method: 'POST',
      url: '/api/v1/suites',
      payload: { name: 'noop', max_concurrent_tests: MAX_CONCURRENT_TESTS },
    })
  ).json();
  await t.runtime.database.db.insert(testCases).values(
    Array.from({ length: CASES }, (_, i) => ({
      suiteId: suite.id as number,
      name: `noop-${i}`,
      skillName: SKILL,
      params: {},
    })),
  );
  const database = new URL(t.database.url).pathname.slice(1);
  const round = async (): Promise<Round> => {
    // This machine's PostgreSQL runs with autovacuum off (its CI configuration), so nothing
    // would refresh the planner's statistics while the run tables grow tenfold over the bench,
    // and cached plans would keep scanning them whole. Autovacuum does it in a deployment;
    // analyzing before each round, untimed, stands in for it.
    await t.runtime.database.db.execute(sql`ANALYZE`);
    const started = performance.now();
    const cpuBefore = cpuMs(database);
    const trigger = await t.inject({
      method: 'POST',
      url: '/api/v1/executions',
      payload: { suite_id: suite.id },
    });
    const id = trigger.json().execution_id as number;
    await new Promise<void>((resolve) => finished.set(id, resolve));
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = cpuMs(database);
    const execution = (await t.inject(`/api/v1/executions/${id}`)).json();
    if (execution.passed_tests !== CASES)
      throw new Error(`only ${execution.passed_tests} of ${CASES} cases passed`);
    const rows = (await t.runtime.database.db.execute(
      sql`SELECT extract(epoch FROM (started_at - queued_at)) * 1000 AS ms FROM ${executionCases} WHERE execution_id = ${id}`,
    )) as unknown as { rows: { ms: string }[] };
    return {
      perSecond: CASES / seconds,
      p95Ms: p95(rows.rows.map((row) => Number(row.ms))),
      cpu: cpuPerCase(cpuBefore, cpuAfter),
    };
  };
  return {
    firstRun: await round(),
    round,
    async close() {
      subscriber.disconnect();
      await t.stop();
    },
  };
}

/** The round with the median throughput. */
const median = (rounds: Round[]): Round =>
  [...rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds.length / 2)]!;

const resultsDatabase = await createTestDatabase();
const sides = {
  bullmq: await bareBullmq(),
  withRow: await bareBullmq({
    url: resultsDatabase.url,
    name: new URL(resultsDatabase.url).pathname.slice(1),
  }),
  webguard: await webguard(),
};
const rounds = { bullmq: [] as Round[], withRow: [] as Round[], webguard: [] as Round[] };
try {
  for (let round = 0; round < WARM_ROUNDS + ROUNDS; round++) {
    const measured = round >= WARM_ROUNDS;
    for (const [name, side] of Object.entries(sides) as [keyof typeof rounds, Side][]) {
      const result = await side.round();
      if (measured) rounds[name].push(result);
    }
  }
} finally {
  for (const side of Object.values(sides)) await side.close();
  await resultsDatabase.drop();
}
/**
 * The ratio of each WebGuard round to the bare BullMQ round run just before it, the median of
 * those: this machine's speed swings by a third within a minute, and a round compared with its
 * neighbour shares its speed, where two medians may come from different minutes.
 */
const pairedRatio = (ours: Round[], theirs: Round[]): number => {
  const ratios = ours.map((round, index) => round.perSecond / theirs[index]!.perSecond);
  return [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
};
const baseline = median(rounds.bullmq);
const durable = median(rounds.withRow);
const ours = median(rounds.webguard);
const first = sides.webguard.firstRun;
const cpu = (side: Round) =>
  `CPU per case ${side.cpu.node.toFixed(2)} ms node + ${side.cpu.postgres.toFixed(2)} ms postgres + ${side.cpu.redis.toFixed(2)} ms redis`;
const each = (list: Round[]) => list.map((round) => round.perSecond.toFixed(0)).join(', ');
console.log(
  `bare BullMQ: ${baseline.perSecond.toFixed(0)} jobs/s (rounds: ${each(rounds.bullmq)}), p95 queue-to-start ${baseline.p95Ms.toFixed(0)} ms, ${cpu(baseline)}`,
);
console.log(
  `BullMQ + one PostgreSQL row per job: ${durable.perSecond.toFixed(0)} jobs/s (rounds: ${each(rounds.withRow)}), p95 queue-to-start ${durable.p95Ms.toFixed(0)} ms, ${cpu(durable)}`,
);
console.log(
  `WebGuard, the suite's first run: ${first.perSecond.toFixed(0)} cases/s, p95 queue-to-start ${first.p95Ms.toFixed(0)} ms, ${cpu(first)}`,
);
console.log(
  `WebGuard: ${ours.perSecond.toFixed(0)} cases/s (rounds: ${each(rounds.webguard)}), p95 queue-to-start ${ours.p95Ms.toFixed(0)} ms, ${cpu(ours)}`,
);
console.log(
  `dispatch: ${CASES} cases, concurrency ${CONCURRENCY}, isolation ${ISOLATION}, max_concurrent_tests ${MAX_CONCURRENT_TESTS}, cases_per_job ${CASES_PER_JOB}, skill ${SKILL}, medians of ${ROUNDS} rounds after ${WARM_ROUNDS} warm-up rounds: webguard=${ours.perSecond.toFixed(0)}/s webguard_first_run=${first.perSecond.toFixed(0)}/s bullmq=${baseline.perSecond.toFixed(0)}/s bullmq_with_row=${durable.perSecond.toFixed(0)}/s ratio_vs_bullmq_with_row=${pairedRatio(rounds.webguard, rounds.withRow).toFixed(2)} ratio_of_medians=${(ours.perSecond / baseline.perSecond).toFixed(2)} p95_queue_to_start=${ours.p95Ms.toFixed(0)}ms ratio=${pairedRatio(rounds.webguard, rounds.bullmq).toFixed(2)}`,
);
process.exit(0);
