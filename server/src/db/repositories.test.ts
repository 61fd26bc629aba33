import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseOutcome } from '@webguard/shared';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.js';
import {
  CaseRepository,
  DataDirLockedError,
  ExecutionRepository,
  openDatabase,
  ResultRepository,
  SkillRegistryRepository,
  SuiteRepository,
  type DatabaseHandle,
  type ResultCase,
} from './index.js';
import { CaseLedger } from './case-ledger.js';
import { executionCases, suiteStatistics, testMetrics, testResults } from './schema.js';

const outcome = (status: CaseOutcome['status'], extra: Partial<CaseOutcome> = {}): CaseOutcome => ({
  status,
  error_type: status === 'passed' ? null : 'assertion',
  error_message: status === 'passed' ? null : 'expected 200, got 500',
  stack_trace: null,
  started_at: new Date(Date.now() - 50).toISOString(),
  completed_at: new Date().toISOString(),
  execution_time_ms: 50,
  steps: [
    { name: 'request', status: 'passed', started_at: new Date().toISOString(), duration_ms: 40 },
  ],
  metrics: [{ name: 'response_time', value: 12.5, unit: 'ms' }],
  logs: [{ time: new Date().toISOString(), level: 'info', message: 'hello' }],
  outputs: { status: 200 },
  ...extra,
});

const backends: {
  name: string;
  open: () => Promise<{ handle: DatabaseHandle; cleanup: () => Promise<void> }>;
}[] = [
  {
    name: 'PostgreSQL',
    async open() {
      const database: TestDatabase = await createTestDatabase();
      const handle = await openDatabase({ databaseUrl: database.url, home: '/nonexistent' });
      return { handle, cleanup: async () => (await handle.close(), await database.drop()) };
    },
  },
  {
    name: 'PGlite',
    async open() {
      const home = mkdtempSync(join(tmpdir(), 'wg-pglite-'));
      const handle = await openDatabase({ databaseUrl: undefined, home });
      return {
        handle,
        cleanup: async () => (await handle.close(), rmSync(home, { recursive: true, force: true })),
      };
    },
  },
];

/** A suite's create body with the defaults these tests do not vary. */
const suiteBody = (name: string) => ({
  name,
  enabled: true,
  max_concurrent_tests: 5,
  timeout_minutes: 60,
  retry_on_failure: true,
  stop_on_error: false,
});

/** An `http-check` case's create body, with the defaults these tests do not vary. */
const caseBody = (
  name: string,
  overrides: { params?: Record<string, string>; priority?: number; enabled?: boolean } = {},
) => ({
  name,
  skill_name: 'http-check',
  params: {},
  priority: 0,
  timeout_seconds: 30,
  enabled: true,
  depends_on: [],
  ...overrides,
});

describe.each(backends)('repositories on $name', (backend) => {
  let handle: DatabaseHandle;
  let cleanup: () => Promise<void>;
  let suites: SuiteRepository;
  let cases: CaseRepository;
  let executions: ExecutionRepository;
  let results: ResultRepository;

  beforeAll(async () => {
    ({ handle, cleanup } = await backend.open());
    await handle.migrate();
    await handle.migrate(); // applying twice is a no-op
    suites = new SuiteRepository(handle.db);
    cases = new CaseRepository(handle.db);
    executions = new ExecutionRepository(handle.db);
    results = new ResultRepository(handle.db);
  });
  afterAll(async () => cleanup?.());

  /** A suite with one `http-check` case per name. */
  const suiteOfCases = async (name: string, caseNames: string[]) => {
    const suite = await suites.create(suiteBody(name));
    const created = [];
    for (const caseName of caseNames) {
      created.push(await cases.create(suite.id, caseBody(caseName)));
    }
    return { suite, created };
  };

  it('creates, pages, filters, updates and deletes suites', async () => {
    const smoke = await suites.create(suiteBody('smoke'));
    expect(smoke).toMatchObject({
      name: 'smoke',
      description: null,
      enabled: true,
      schedule_cron: null,
    });
    await suites.create({
      name: 'nightly_100%',
      enabled: false,
      max_concurrent_tests: 1,
      timeout_minutes: 5,
      retry_on_failure: false,
      stop_on_error: false,
    });
    await expect(suites.create(suiteBody('smoke'))).rejects.toMatchObject({
      statusCode: 409,
      message: 'a suite named "smoke" already exists in this project',
    });

    const page = await suites.list({ limit: 1, offset: 1 });
    expect(page).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.items.map((suite) => suite.name)).toEqual(['nightly_100%']);
    expect((await suites.list({ limit: 50, offset: 0, name: '100%' })).items).toHaveLength(1);
    expect((await suites.list({ limit: 50, offset: 0, name: '_1' })).total).toBe(1);
    expect((await suites.list({ limit: 50, offset: 0, enabled: false })).items[0]?.name).toBe(
      'nightly_100%',
    );

    const renamed = await suites.update(smoke.id, { description: 'fast checks' });
    expect(renamed.description).toBe('fast checks');
    expect(new Date(renamed.updated_at).getTime()).toBeGreaterThanOrEqual(
      new Date(smoke.updated_at).getTime(),
    );
    await expect(suites.update(smoke.id, { name: 'nightly_100%' })).rejects.toMatchObject({
      statusCode: 409,
    });
    await expect(suites.update(999_999, { enabled: false })).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('keeps case names unique per suite and lists them enabled or not', async () => {
    const suite = await suites.create(suiteBody('cases'));
    const low = await cases.create(suite.id, caseBody('low', { params: { url: 'http://x' } }));
    await cases.create(suite.id, caseBody('high', { priority: 5 }));
    await cases.create(suite.id, caseBody('off', { priority: 9, enabled: false }));
    await expect(cases.create(suite.id, caseBody('low'))).rejects.toMatchObject({
      statusCode: 409,
    });
    expect((await cases.listAll(suite.id)).map((c) => [c.name, c.enabled])).toEqual([
      ['low', true],
      ['high', true],
      ['off', false],
    ]);
    expect(
      (await cases.list(suite.id, { limit: 10, offset: 0, enabled: false })).items.map(
        (c) => c.name,
      ),
    ).toEqual(['off']);
    expect((await cases.get(suite.id, low.id)).params).toEqual({ url: 'http://x' });
    expect((await cases.update(suite.id, low.id, { params: { url: 'http://y' } })).params).toEqual({
      url: 'http://y',
    });
    await expect(cases.get(suite.id + 1000, low.id)).rejects.toMatchObject({ statusCode: 404 });
    await cases.delete(suite.id, low.id);
    await expect(cases.delete(suite.id, low.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('records each result once and finalizes the execution from its results', async () => {
    const { suite, created } = await suiteOfCases('run', ['a', 'b', 'c']);
    const snapshots: ResultCase[] = created.map((c) => ({
      caseId: c.id,
      name: c.name,
      skillName: 'http-check',
    }));
    const execution = await executions.create({
      suiteId: suite.id,
      totalTests: 3,
      triggeredBy: 'ci',
      ciCommitSha: 'abc123',
      ciBranch: 'main',
    });
    expect(execution).toMatchObject({
      status: 'queued',
      suite_name: 'run',
      total_tests: 3,
      started_at: null,
    });

    await executions.markRunning(execution.id);
    expect((await executions.get(execution.id)).status).toBe('running');

    expect(await results.record(execution.id, snapshots[0]!, outcome('passed'))).toBe(true);
    expect(await results.record(execution.id, snapshots[0]!, outcome('failed'))).toBe(false);
    expect(await results.exists(execution.id, snapshots[0]!.caseId)).toBe(true);
    expect(await executions.finalizeIfComplete(execution.id)).toBeUndefined();

    await results.record(execution.id, snapshots[1]!, outcome('passed'));
    await results.record(execution.id, snapshots[2]!, outcome('failed'));
    const [first, second] = await Promise.all([
      executions.finalizeIfComplete(execution.id),
      executions.finalizeIfComplete(execution.id),
    ]);
    const closed = first ?? second;
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(closed).toMatchObject({
      status: 'failed',
      passed_tests: 2,
      failed_tests: 1,
      skipped_tests: 0,
    });
    expect(closed?.execution_time_ms).toBeGreaterThanOrEqual(0);
    expect(await executions.isFinal(execution.id)).toBe(true);

    const full = await executions.getWithResults(execution.id);
    expect(full.results).toHaveLength(3);
    expect(full.results[0]).toMatchObject({
      test_name: 'a',
      status: 'passed',
      metrics: [{ name: 'response_time', value: 12.5, unit: 'ms' }],
      steps: [{ name: 'request', status: 'passed' }],
      logs: [{ level: 'info', message: 'hello' }],
      outputs: { status: 200 },
    });
    expect(full.results[2]).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: 'expected 200, got 500',
    });

    const listed = await executions.list({
      limit: 10,
      offset: 0,
      suite_id: suite.id,
      status: 'failed',
      ci_branch: 'main',
    });
    expect(listed.items.map((item) => item.id)).toEqual([execution.id]);
    expect((await executions.list({ limit: 10, offset: 0, triggered_by: 'schedule' })).total).toBe(
      0,
    );
    expect(
      (
        await executions.list({
          limit: 10,
          offset: 0,
          since: new Date(Date.now() + 60_000).toISOString(),
        })
      ).total,
    ).toBe(0);

    const [stats] = await handle.db
      .select()
      .from(suiteStatistics)
      .where(eq(suiteStatistics.suiteId, suite.id));
    expect(stats).toMatchObject({
      totalExecutions: 1,
      failedExecutions: 1,
      passedExecutions: 0,
      passRate: 0,
    });
  });

  it("reads each case's history from its latest 20 results that ran", async () => {
    const { suite, created } = await suiteOfCases('history', ['steady', 'broke', 'new']);
    const [steady, broke, fresh] = created.map((c) => ({
      caseId: c.id,
      name: c.name,
      skillName: 'http-check',
    }));
    const timed = (status: CaseOutcome['status'], ms: number) =>
      outcome(status, { execution_time_ms: ms });
    // 25 runs: the first five (1,000 ms) are older than the 20 the history keeps.
    for (let run = 0; run < 25; run++) {
      const { id } = await executions.create({
        suiteId: suite.id,
        totalTests: 2,
        triggeredBy: 'api',
      });
      await results.record(id, steady!, timed('passed', run < 5 ? 1_000 : 100));
      await results.record(id, broke!, timed(run === 24 ? 'error' : 'passed', 40));
    }
    // A skipped result did not run: it says nothing about the case's time or health.
    const last = await executions.create({ suiteId: suite.id, totalTests: 1, triggeredBy: 'api' });
    await results.record(last.id, broke!, timed('skipped', 0));

    const history = await results.recentResults([steady!.caseId, broke!.caseId, fresh!.caseId]);
    expect(history.get(steady!.caseId)).toEqual({ failedLastTime: false, averageMs: 100 });
    expect(history.get(broke!.caseId)).toEqual({ failedLastTime: true, averageMs: 40 });
    expect(history.has(fresh!.caseId)).toBe(false);
    expect((await results.recentResults([])).size).toBe(0);
  });

  it('marks an open execution as error and leaves a closed one alone', async () => {
    const suite = await suites.create(suiteBody('err'));
    const execution = await executions.create({
      suiteId: suite.id,
      totalTests: 1,
      triggeredBy: 'api',
    });
    await executions.markError(execution.id, 'could not queue: Redis is down');
    expect(await executions.get(execution.id)).toMatchObject({
      status: 'error',
      error_message: 'could not queue: Redis is down',
    });
    await executions.markError(execution.id, 'second');
    expect((await executions.get(execution.id)).error_message).toBe(
      'could not queue: Redis is down',
    );
  });

  // Two connections at once: the embedded database has one.
  if (backend.name === 'PostgreSQL')
    it('leaves a case alone whose attempt moved on while its claim waited for the row', async () => {
      const { suite, created } = await suiteOfCases('claim-race', ['r']);
      const execution = await executions.create({
        suiteId: suite.id,
        totalTests: 1,
        triggeredBy: 'api',
      });
      const [row] = await handle.db
        .insert(executionCases)
        .values({
          executionId: execution.id,
          caseId: created[0]!.id,
          name: 'r',
          skillName: 'http-check',
          timeoutSeconds: 30,
          state: 'running',
          jobId: 'race-job',
        })
        .returning();
      const ledger = new CaseLedger(handle.db);
      let claim: ReturnType<CaseLedger['claim']> | undefined;
      // The worker of the first delivery queues a retry while a redelivery of that attempt claims.
      await handle.db.transaction(async (tx) => {
        await tx
          .update(executionCases)
          .set({ attempt: 1, state: 'queued' })
          .where(eq(executionCases.id, row!.id));
        claim = ledger.claim({
          execution_id: execution.id,
          case_id: row!.caseId,
          attempt: 0,
          job_id: 'race-job',
        });
        for (let waited = 0; ; waited++) {
          const { rows } = (await handle.db.execute(
            sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
          )) as unknown as { rows: { n: number }[] };
          if (rows[0]!.n > 0) break;
          if (waited > 200) throw new Error('the claim never waited for the row');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      expect(await claim).toBeNull();
      const [after] = await handle.db
        .select()
        .from(executionCases)
        .where(eq(executionCases.id, row!.id));
      expect(after).toMatchObject({ state: 'queued', attempt: 1, startedAt: null });
    });

  it('claims and closes cases in batches, each result written once', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const { suite, created } = await suiteOfCases('ledger', names);
    const execution = await executions.create({
      suiteId: suite.id,
      totalTests: names.length,
      triggeredBy: 'api',
    });
    await handle.db.insert(executionCases).values(
      created.map((c) => ({
        executionId: execution.id,
        caseId: c.id,
        name: c.name,
        skillName: 'http-check',
        timeoutSeconds: 30,
        state: 'queued',
        jobId: 'shared-job',
      })),
    );
    const job = (caseId: number, attempt = 0, jobId = 'shared-job') => ({
      execution_id: execution.id,
      case_id: caseId,
      attempt,
      job_id: jobId,
    });
    const ledger = new CaseLedger(handle.db);

    // Claimed together: the current attempts run; a stale attempt, a job the case is no longer
    // queued in (the reaper queued it again in its own) and an unknown case do not.
    const claims = await Promise.all([
      ...created.map((c) => ledger.claim(job(c.id))),
      ledger.claim(job(created[0]!.id, 1)),
      ledger.claim(job(created[1]!.id, 0, 'lost-job')),
      ledger.claim(job(999_999)),
    ]);
    expect(claims.map((claim) => claim?.row.state ?? null)).toEqual([
      ...names.map(() => 'running'),
      null,
      null,
      null,
    ]);
    const [a, b, c, d, e] = claims.slice(0, names.length).map((claim) => claim!.row);

    // An earlier delivery of c's job wrote its result and stopped before closing the case.
    await results.record(
      execution.id,
      { caseId: c!.caseId, name: 'c', skillName: 'http-check' },
      outcome('failed'),
    );
    const closed = await Promise.allSettled([
      ledger.close(a!, outcome('passed')),
      ledger.close(b!, outcome('failed', { outputs: { why: 'broken' } })),
      ledger.close(c!, outcome('passed')),
      // A status the database refuses fails this case's write alone.
      ledger.close(d!, outcome('bogus' as CaseOutcome['status'])),
      // Cancelled while it waited its turn in a shared job: it ends cancelled, never having run.
      ledger.close(e!, outcome('skipped', { metrics: [] }), 'cancelled'),
    ]);
    expect(closed.map((settled) => settled.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const value = (i: number) => (closed[i] as PromiseFulfilledResult<{ status: string }>).value;
    expect([value(0).status, value(1).status, value(2).status, value(4).status]).toEqual([
      'passed',
      'failed',
      'failed',
      'skipped',
    ]);

    const rows = await handle.db
      .select()
      .from(executionCases)
      .where(eq(executionCases.executionId, execution.id))
      .orderBy(executionCases.name);
    expect(rows.map((row) => [row.name, row.state, row.resultStatus])).toEqual([
      ['a', 'done', 'passed'],
      ['b', 'done', 'failed'],
      ['c', 'done', 'failed'],
      ['d', 'running', null],
      ['e', 'cancelled', 'skipped'],
    ]);
    expect(rows[1]!.outputs).toEqual({ why: 'broken' });
    const recorded = await handle.db
      .select()
      .from(testResults)
      .where(eq(testResults.executionId, execution.id));
    expect(recorded.map((row) => row.testName).sort()).toEqual(['a', 'b', 'c', 'e']);
    const metrics = await handle.db
      .select()
      .from(testMetrics)
      .where(
        inArray(
          testMetrics.testResultId,
          recorded.map((row) => row.id),
        ),
      );
    // a and b wrote their metric; c's earlier delivery wrote its own; e had none.
    expect(metrics).toHaveLength(3);
    expect(value(0)).toMatchObject({
      resultId: recorded.find((row) => row.testName === 'a')!.id,
    });
  });

  it('mirrors loaded skills into skills_registry', async () => {
    const registry = new SkillRegistryRepository(handle.db);
    const skill = {
      name: 'http-check',
      category: 'api' as const,
      version: '1.0.0',
      description: 'd',
      timeout_ms: null,
      source: '/skills/http-check',
      params_schema: { type: 'object' },
    };
    await registry.sync([skill, { ...skill, name: 'other' }]);
    await registry.sync([{ ...skill, version: '1.1.0' }]);
    const rows = await registry.list();
    expect(rows.map((row) => [row.name, row.version, row.enabled])).toEqual([
      ['http-check', '1.1.0', true],
      ['other', '1.0.0', false],
    ]);
  });
});

describe('embedded database folder', () => {
  it('refuses a second process on the same folder', async () => {
    const home = mkdtempSync(join(tmpdir(), 'wg-lock-'));
    mkdirSync(join(home, 'pgdata'), { recursive: true });
    // pid 1 is always alive and never this test process.
    writeFileSync(join(home, 'pgdata', 'webguard.pid'), '1');
    await expect(openDatabase({ databaseUrl: undefined, home })).rejects.toBeInstanceOf(
      DataDirLockedError,
    );
    writeFileSync(join(home, 'pgdata', 'webguard.pid'), '999999999');
    const handle = await openDatabase({ databaseUrl: undefined, home });
    await handle.close();
    rmSync(home, { recursive: true, force: true });
  });
});
