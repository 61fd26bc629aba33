import { and, asc, count, eq, ilike, inArray, type SQL } from 'drizzle-orm';
import type {
  CreateSuiteBody,
  ListSuitesQuery,
  Page,
  Suite,
  UpdateSuiteBody,
} from '@webguard/shared';
import { conflict, isUniqueViolation, notFound } from '../errors.js';
import type { Database } from './database.js';
import { toSuite } from './mappers.js';
import { testSuites } from './schema.js';

const duplicateName = (name: string) =>
  conflict(`a suite named ${JSON.stringify(name)} already exists in this project`);

/** Escapes LIKE wildcards so a name filter matches literally. */
const literalLike = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class SuiteRepository {
  constructor(private readonly db: Database) {}

  async create(body: CreateSuiteBody): Promise<Suite> {
    try {
      const [row] = await this.db
        .insert(testSuites)
        .values({
          projectId: body.project_id,
          name: body.name,
          description: body.description ?? null,
          enabled: body.enabled,
          scheduleCron: body.schedule_cron ?? null,
          maxConcurrentTests: body.max_concurrent_tests,
          timeoutMinutes: body.timeout_minutes,
          retryOnFailure: body.retry_on_failure,
          scheduleTimezone: body.schedule_timezone ?? null,
          stopOnError: body.stop_on_error,
          maxFailures: body.max_failures ?? null,
          qualityGate: body.quality_gate ?? null,
        })
        .returning();
      return toSuite(row!);
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateName(body.name);
      throw error;
    }
  }

  /** `projectIds` limits the page to those projects; undefined means every project. */
  async list(query: ListSuitesQuery, projectIds?: number[]): Promise<Page<Suite>> {
    const filters: SQL[] = [];
    if (projectIds) filters.push(inArray(testSuites.projectId, projectIds));
    if (query.project_id !== undefined) filters.push(eq(testSuites.projectId, query.project_id));
    if (query.name) filters.push(ilike(testSuites.name, literalLike(query.name)));
    if (query.enabled !== undefined) filters.push(eq(testSuites.enabled, query.enabled));
    const where = and(...filters);
    const [rows, [total]] = await Promise.all([
      this.db
        .select()
        .from(testSuites)
        .where(where)
        .orderBy(asc(testSuites.id))
        .limit(query.limit)
        .offset(query.offset),
      this.db.select({ value: count() }).from(testSuites).where(where),
    ]);
    return {
      items: rows.map(toSuite),
      total: total?.value ?? 0,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** Every suite, e.g. to reconcile schedules. */
  async all(): Promise<Suite[]> {
    return (await this.db.select().from(testSuites).orderBy(asc(testSuites.id))).map(toSuite);
  }

  async find(id: number): Promise<Suite | undefined> {
    const [row] = await this.db.select().from(testSuites).where(eq(testSuites.id, id));
    return row && toSuite(row);
  }

  async get(id: number): Promise<Suite> {
    const suite = await this.find(id);
    if (!suite) throw notFound('suite', id);
    return suite;
  }

  async update(id: number, body: UpdateSuiteBody): Promise<Suite> {
    try {
      const [row] = await this.db
        .update(testSuites)
        .set({
          name: body.name,
          description: body.description,
          enabled: body.enabled,
          scheduleCron: body.schedule_cron,
          maxConcurrentTests: body.max_concurrent_tests,
          timeoutMinutes: body.timeout_minutes,
          retryOnFailure: body.retry_on_failure,
          scheduleTimezone: body.schedule_timezone,
          stopOnError: body.stop_on_error,
          maxFailures: body.max_failures,
          qualityGate: body.quality_gate,
          updatedAt: new Date(),
        })
        .where(eq(testSuites.id, id))
        .returning();
      if (!row) throw notFound('suite', id);
      return toSuite(row);
    } catch (error) {
      if (isUniqueViolation(error) && body.name) throw duplicateName(body.name);
      throw error;
    }
  }

  /** Deletes the suite with its cases, executions and results. */
  async delete(id: number): Promise<void> {
    const deleted = await this.db
      .delete(testSuites)
      .where(eq(testSuites.id, id))
      .returning({ id: testSuites.id });
    if (deleted.length === 0) throw notFound('suite', id);
  }
}
