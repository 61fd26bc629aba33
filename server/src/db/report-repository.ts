import { sql, type SQL } from 'drizzle-orm';
import type {
  ExecutionComparison,
  FailureGroupsQuery,
  FlakyQuery,
  FlakyTest,
  SuiteStatistics,
  TrendPoint,
  TrendsQuery,
  TrendsResponse,
} from '@webguard/shared';
import type { FailureRow } from '../reports/failure-groups.js';
import { rowsOf, type Database } from './database.js';

/** Runs that finished with a verdict; cancelled and skipped runs say nothing about quality. */
const JUDGED = sql.raw(`('passed', 'failed', 'error', 'timeout')`);
const FAILING = sql.raw(`('failed', 'error', 'timeout')`);

const num = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

const round = (value: number | null, digits = 2) =>
  value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;

/** `AND ts.project_id IN (…)` for a caller limited to some projects; nothing for an admin. */
const inProjects = (projectIds: number[] | undefined): SQL =>
  projectIds === undefined
    ? sql``
    : projectIds.length === 0
      ? sql` AND false`
      : sql` AND ts.project_id IN (${sql.join(
          projectIds.map((id) => sql`${id}`),
          sql`, `,
        )})`;

interface TrendRow {
  day: string | null;
  executions: number;
  passed: number;
  failed: number;
  p50: string | number | null;
  p95: string | number | null;
  cases: number;
  flaky_cases: number;
}

const toPoint = (row: TrendRow): Omit<TrendPoint, 'day'> => ({
  executions: row.executions,
  passed: row.passed,
  failed: row.failed,
  pass_rate: row.executions > 0 ? round((row.passed / row.executions) * 100) : null,
  p50_duration_ms: round(num(row.p50), 0),
  p95_duration_ms: round(num(row.p95), 0),
  cases: row.cases,
  flaky_cases: row.flaky_cases,
});

/** Reporting queries: statistics, trends, flaky tests and run-to-run comparison. */
export class ReportRepository {
  constructor(private readonly db: Database) {}

  async statistics(projectIds: number[] | undefined): Promise<SuiteStatistics[]> {
    const rows = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        SELECT v.* FROM v_test_suite_statistics v
        JOIN test_suites ts ON ts.id = v.suite_id
        WHERE true${inProjects(projectIds)}
        ORDER BY v.suite_name`),
    );
    return rows.map((row) => ({
      suite_id: Number(row['suite_id']),
      suite_name: String(row['suite_name']),
      total_executions: Number(row['total_executions']),
      passed_executions: Number(row['passed_executions']),
      failed_executions: Number(row['failed_executions']),
      pass_rate: num(row['pass_rate']),
      avg_execution_time_ms: num(row['avg_execution_time_ms']),
      last_execution_at: row['last_execution_at']
        ? new Date(row['last_execution_at'] as string).toISOString()
        : null,
    }));
  }

  /** Daily pass rate, P50/P95 run duration and counts over the window, days in UTC. */
  async trends(query: TrendsQuery, projectIds: number[] | undefined): Promise<TrendsResponse> {
    const filter = sql`te.completed_at >= now() - make_interval(days => ${query.days})
      AND te.status IN ${JUDGED}
      ${query.suite_id === undefined ? sql`` : sql`AND te.suite_id = ${query.suite_id}`}
      ${query.branch === undefined ? sql`` : sql`AND te.ci_branch = ${query.branch}`}
      ${inProjects(projectIds)}`;
    const select = (day: SQL) => sql`
      WITH runs AS (
        SELECT te.id, te.status, te.execution_time_ms, te.completed_at
        FROM test_executions te JOIN test_suites ts ON ts.id = te.suite_id
        WHERE ${filter}
      ), cases AS (
        SELECT r.id AS run_id, count(tr.id)::int AS cases,
               count(tr.id) FILTER (WHERE tr.flaky)::int AS flaky_cases
        FROM runs r LEFT JOIN test_results tr ON tr.execution_id = r.id
        GROUP BY r.id
      )
      SELECT ${day} AS day,
        count(*)::int AS executions,
        count(*) FILTER (WHERE r.status = 'passed')::int AS passed,
        count(*) FILTER (WHERE r.status IN ${FAILING})::int AS failed,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY r.execution_time_ms) AS p50,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY r.execution_time_ms) AS p95,
        coalesce(sum(c.cases), 0)::int AS cases,
        coalesce(sum(c.flaky_cases), 0)::int AS flaky_cases
      FROM runs r JOIN cases c ON c.run_id = r.id`;
    const dayOf = sql`to_char(r.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    const [daily, total] = await Promise.all([
      this.db.execute(sql`${select(dayOf)} GROUP BY 1 ORDER BY 1`),
      this.db.execute(select(sql`NULL`)),
    ]);
    return {
      suite_id: query.suite_id ?? null,
      days: query.days,
      totals: toPoint(rowsOf<TrendRow>(total)[0]!),
      points: rowsOf<TrendRow>(daily).map((row) => ({ day: row.day!, ...toPoint(row) })),
    };
  }

  /** Cases ranked by how often they passed only after a retry or flipped on one branch. */
  async flaky(query: FlakyQuery, projectIds: number[] | undefined): Promise<FlakyTest[]> {
    const rows = rowsOf<{
      suite_id: number;
      suite_name: string;
      test_name: string;
      runs: number;
      failures: number;
      retried_passes: number;
      flips: number;
      last_seen_at: string;
    }>(
      await this.db.execute(sql`
        WITH outcomes AS (
          SELECT ts.id AS suite_id, ts.name AS suite_name, tr.test_name, tr.flaky,
                 tr.status IN ${FAILING} AS failing, te.created_at,
                 lag(tr.status IN ${FAILING}) OVER (
                   PARTITION BY ts.id, tr.test_name, coalesce(te.ci_branch, '')
                   ORDER BY te.created_at, te.id
                 ) AS previous_failing
          FROM test_results tr
          JOIN test_executions te ON te.id = tr.execution_id
          JOIN test_suites ts ON ts.id = te.suite_id
          WHERE te.created_at >= now() - make_interval(days => ${query.days})
            AND tr.status <> 'skipped'
            ${query.suite_id === undefined ? sql`` : sql`AND ts.id = ${query.suite_id}`}
            ${inProjects(projectIds)}
        )
        SELECT suite_id, suite_name, test_name,
               count(*)::int AS runs,
               count(*) FILTER (WHERE failing)::int AS failures,
               count(*) FILTER (WHERE flaky)::int AS retried_passes,
               count(*) FILTER (WHERE previous_failing IS NOT NULL
                                  AND previous_failing <> failing)::int AS flips,
               max(created_at) AS last_seen_at
        FROM outcomes
        GROUP BY suite_id, suite_name, test_name`),
    );
    return rows
      .map((row) => ({
        suite_id: row.suite_id,
        suite_name: row.suite_name,
        test_name: row.test_name,
        runs: row.runs,
        failures: row.failures,
        retried_passes: row.retried_passes,
        flips: row.flips,
        flake_rate: round((row.retried_passes + row.flips) / row.runs, 4)!,
        last_seen_at: new Date(row.last_seen_at).toISOString(),
      }))
      .filter((test) => test.retried_passes + test.flips > 0)
      .sort(
        (a, b) =>
          b.retried_passes + b.flips - (a.retried_passes + a.flips) ||
          b.flake_rate - a.flake_rate ||
          a.test_name.localeCompare(b.test_name),
      )
      .slice(0, query.limit);
  }

  /** Failing results in the window, newest first (capped), for grouping by error signature. */
  async failures(
    query: FailureGroupsQuery,
    projectIds: number[] | undefined,
  ): Promise<FailureRow[]> {
    const rows = rowsOf<FailureRow & { created_at: string | Date }>(
      await this.db.execute(sql`
        SELECT ts.id AS suite_id, tr.test_name, tr.error_type, tr.error_message, tr.created_at
        FROM test_results tr
        JOIN test_executions te ON te.id = tr.execution_id
        JOIN test_suites ts ON ts.id = te.suite_id
        WHERE tr.created_at >= now() - make_interval(days => ${query.days})
          AND tr.status IN ${FAILING} AND tr.error_message IS NOT NULL
          ${query.suite_id === undefined ? sql`` : sql`AND ts.id = ${query.suite_id}`}
          ${inProjects(projectIds)}
        ORDER BY tr.created_at DESC LIMIT 10000`),
    );
    return rows.map((row) => ({ ...row, created_at: new Date(row.created_at) }));
  }

  /** Compares a run with the previous finished run of its suite on the same branch. */
  async compare(executionId: number): Promise<ExecutionComparison> {
    const [current] = rowsOf<{ suite_id: number; ci_branch: string | null; created_at: string }>(
      await this.db.execute(
        sql`SELECT suite_id, ci_branch, created_at FROM test_executions WHERE id = ${executionId}`,
      ),
    );
    const [previous] = current
      ? rowsOf<{ id: number }>(
          await this.db.execute(sql`
            SELECT id FROM test_executions
            WHERE suite_id = ${current.suite_id}
              AND ci_branch IS NOT DISTINCT FROM ${current.ci_branch}
              AND status IN ${JUDGED}
              AND (created_at, id) < (${current.created_at}::timestamptz, ${executionId})
            ORDER BY created_at DESC, id DESC LIMIT 1`),
        )
      : [];
    const outcomes = async (id: number) =>
      new Map(
        rowsOf<{ test_name: string; failing: boolean }>(
          await this.db.execute(
            sql`SELECT test_name, status IN ${FAILING} AS failing FROM test_results WHERE execution_id = ${id}`,
          ),
        ).map((row) => [row.test_name, row.failing]),
      );
    const now = await outcomes(executionId);
    const before = previous ? await outcomes(previous.id) : new Map<string, boolean>();
    const names = (keep: (name: string) => boolean, from: Map<string, boolean>) =>
      [...from.keys()].filter(keep).sort();
    return {
      execution_id: executionId,
      previous_execution_id: previous?.id ?? null,
      branch: current?.ci_branch ?? null,
      newly_failing: names((n) => now.get(n) === true && before.get(n) !== true, now),
      fixed: names((n) => before.get(n) === true && now.get(n) === false, now),
      still_failing: names((n) => now.get(n) === true && before.get(n) === true, now),
      new_cases: previous ? names((n) => !before.has(n), now) : [],
      removed_cases: names((n) => !now.has(n), before),
    };
  }
}
