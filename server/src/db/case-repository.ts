import { and, asc, count, eq, type SQL } from 'drizzle-orm';
import type {
  CreateCaseBody,
  ListCasesQuery,
  Page,
  TestCase,
  UpdateCaseBody,
} from '@webguard/shared';
import { conflict, isUniqueViolation, notFound } from '../errors.js';
import type { Database } from './database.js';
import { toTestCase } from './mappers.js';
import { testCases } from './schema.js';

const duplicateName = (name: string) =>
  conflict(`this suite already has a case named ${JSON.stringify(name)}`);

export class CaseRepository {
  constructor(private readonly db: Database) {}

  async create(suiteId: number, body: CreateCaseBody): Promise<TestCase> {
    try {
      const [row] = await this.db
        .insert(testCases)
        .values({
          suiteId,
          name: body.name,
          skillName: body.skill_name,
          skillVersion: body.skill_version ?? null,
          params: body.params,
          priority: body.priority,
          timeoutSeconds: body.timeout_seconds,
          enabled: body.enabled,
          dependsOn: body.depends_on,
          group: body.group ?? null,
          retries: body.retries ?? null,
        })
        .returning();
      return toTestCase(row!);
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateName(body.name);
      throw error;
    }
  }

  async list(suiteId: number, query: ListCasesQuery): Promise<Page<TestCase>> {
    const filters: SQL[] = [eq(testCases.suiteId, suiteId)];
    if (query.enabled !== undefined) filters.push(eq(testCases.enabled, query.enabled));
    const where = and(...filters);
    const [rows, [total]] = await Promise.all([
      this.db
        .select()
        .from(testCases)
        .where(where)
        .orderBy(asc(testCases.id))
        .limit(query.limit)
        .offset(query.offset),
      this.db.select({ value: count() }).from(testCases).where(where),
    ]);
    return {
      items: rows.map(toTestCase),
      total: total?.value ?? 0,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** Every case of the suite, enabled or not, in the order they were added. */
  async listAll(suiteId: number): Promise<TestCase[]> {
    const rows = await this.db
      .select()
      .from(testCases)
      .where(eq(testCases.suiteId, suiteId))
      .orderBy(asc(testCases.id));
    return rows.map(toTestCase);
  }

  async get(suiteId: number, caseId: number): Promise<TestCase> {
    const [row] = await this.db
      .select()
      .from(testCases)
      .where(and(eq(testCases.suiteId, suiteId), eq(testCases.id, caseId)));
    if (!row) throw notFound('case', caseId);
    return toTestCase(row);
  }

  async update(suiteId: number, caseId: number, body: UpdateCaseBody): Promise<TestCase> {
    try {
      const [row] = await this.db
        .update(testCases)
        .set({
          name: body.name,
          skillName: body.skill_name,
          skillVersion: body.skill_version,
          params: body.params,
          priority: body.priority,
          timeoutSeconds: body.timeout_seconds,
          enabled: body.enabled,
          dependsOn: body.depends_on,
          group: body.group,
          retries: body.retries,
          updatedAt: new Date(),
        })
        .where(and(eq(testCases.suiteId, suiteId), eq(testCases.id, caseId)))
        .returning();
      if (!row) throw notFound('case', caseId);
      return toTestCase(row);
    } catch (error) {
      if (isUniqueViolation(error) && body.name) throw duplicateName(body.name);
      throw error;
    }
  }

  async delete(suiteId: number, caseId: number): Promise<void> {
    const deleted = await this.db
      .delete(testCases)
      .where(and(eq(testCases.suiteId, suiteId), eq(testCases.id, caseId)))
      .returning({ id: testCases.id });
    if (deleted.length === 0) throw notFound('case', caseId);
  }
}
