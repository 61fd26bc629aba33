import { and, asc, count, eq, inArray } from 'drizzle-orm';
import type {
  CreateEnvironmentBody,
  Environment,
  Page,
  PaginationQuery,
  UpdateEnvironmentBody,
} from '@webguard/shared';
import { conflict, isUniqueViolation, notFound } from '../errors.js';
import type { SecretBox } from '../orchestration/secret-box.js';
import type { Database } from './database.js';
import { environments } from './schema.js';

type EnvironmentRow = typeof environments.$inferSelect;

const toEnvironment = (row: EnvironmentRow): Environment => ({
  id: row.id,
  project_id: row.projectId,
  name: row.name,
  description: row.description,
  variables: row.variables,
  secret_names: Object.keys(row.secrets).sort(),
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

/** What a run reads from its environment: variables and decrypted secrets. */
export interface EnvironmentValues {
  id: number;
  name: string;
  variables: Record<string, string>;
  secrets: Record<string, string>;
}

const duplicateName = (name: string) =>
  conflict(`an environment named ${JSON.stringify(name)} already exists in this project`);

/** Environments with their secrets sealed at rest; the API only ever sees secret names. */
export class EnvironmentRepository {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  private seal(values: Record<string, string>) {
    return Object.fromEntries(
      Object.entries(values).map(([name, value]) => [name, this.box.seal(value)]),
    );
  }

  async create(body: CreateEnvironmentBody): Promise<Environment> {
    try {
      const [row] = await this.db
        .insert(environments)
        .values({
          projectId: body.project_id,
          name: body.name,
          description: body.description ?? null,
          variables: body.variables,
          secrets: this.seal(body.secrets),
        })
        .returning();
      return toEnvironment(row!);
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateName(body.name);
      throw error;
    }
  }

  /** `projectIds` limits the page to those projects; undefined means every project. */
  async list(query: PaginationQuery, projectIds?: number[]): Promise<Page<Environment>> {
    const where = projectIds ? inArray(environments.projectId, projectIds) : undefined;
    const [rows, [total]] = await Promise.all([
      this.db
        .select()
        .from(environments)
        .where(where)
        .orderBy(asc(environments.name))
        .limit(query.limit)
        .offset(query.offset),
      this.db.select({ value: count() }).from(environments).where(where),
    ]);
    return {
      items: rows.map(toEnvironment),
      total: total?.value ?? 0,
      limit: query.limit,
      offset: query.offset,
    };
  }

  private async row(id: number): Promise<EnvironmentRow> {
    const [row] = await this.db.select().from(environments).where(eq(environments.id, id));
    if (!row) throw notFound('environment', id);
    return row;
  }

  async get(id: number): Promise<Environment> {
    return toEnvironment(await this.row(id));
  }

  /** Names are unique per project, so the project is part of the lookup. */
  async findByName(name: string, projectId: number): Promise<Environment | undefined> {
    const [row] = await this.db
      .select()
      .from(environments)
      .where(and(eq(environments.name, name), eq(environments.projectId, projectId)));
    return row && toEnvironment(row);
  }

  async update(id: number, body: UpdateEnvironmentBody): Promise<Environment> {
    const current = await this.row(id);
    const secrets = { ...current.secrets };
    for (const [name, value] of Object.entries(body.secrets ?? {})) {
      if (value === null) delete secrets[name];
      else secrets[name] = this.box.seal(value);
    }
    try {
      const [row] = await this.db
        .update(environments)
        .set({
          name: body.name,
          description: body.description,
          variables: body.variables,
          secrets,
          updatedAt: new Date(),
        })
        .where(eq(environments.id, id))
        .returning();
      return toEnvironment(row!);
    } catch (error) {
      if (isUniqueViolation(error) && body.name) throw duplicateName(body.name);
      throw error;
    }
  }

  async delete(id: number): Promise<void> {
    const deleted = await this.db
      .delete(environments)
      .where(eq(environments.id, id))
      .returning({ id: environments.id });
    if (deleted.length === 0) throw notFound('environment', id);
  }

  /** Variables and decrypted secrets for a run; undefined when the environment was deleted. */
  async values(id: number): Promise<EnvironmentValues | undefined> {
    const [row] = await this.db.select().from(environments).where(eq(environments.id, id));
    if (!row) return undefined;
    return {
      id: row.id,
      name: row.name,
      variables: row.variables,
      secrets: Object.fromEntries(
        Object.entries(row.secrets).map(([name, sealed]) => [name, this.box.open(sealed)]),
      ),
    };
  }
}
