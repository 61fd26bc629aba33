import { and, asc, eq } from 'drizzle-orm';
import type { UserRole } from '@webguard/shared';
import type { Database } from '../db/database.js';
import {
  artifacts,
  DEFAULT_PROJECT_ID,
  environments,
  projects,
  testExecutions,
  testResults,
  testSuites,
} from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { hasRole, roleIn, type Principal } from './principal.js';

export const forbidden = (message: string) => new AppError(403, 'FORBIDDEN', message);

type Lookup = (id: number) => Promise<number | undefined>;

/**
 * Decides whether a principal may read or change an object: objects of a project the caller
 * cannot see answer 404 exactly like missing ones; a visible object with too low a role is 403.
 */
export class AccessControl {
  constructor(private readonly db: Database) {}

  /** Throws unless `principal` has at least `needed` in `projectId`. */
  requireRole(
    principal: Principal,
    projectId: number | undefined,
    needed: UserRole,
    missing: () => AppError,
  ): void {
    const role = projectId === undefined ? undefined : roleIn(principal, projectId);
    if (role === undefined) throw missing();
    if (!hasRole(role, needed))
      throw forbidden(`this needs the ${needed} role in the project; you have ${role}`);
  }

  requireAdmin(principal: Principal): void {
    if (!principal.isAdmin) throw forbidden('only an administrator may do this');
  }

  private check(what: string, lookup: Lookup) {
    return async (principal: Principal, id: number, needed: UserRole) => {
      this.requireRole(principal, await lookup(id), needed, () => notFound(what, id));
    };
  }

  private async one(query: Promise<{ projectId: number }[]>): Promise<number | undefined> {
    const [row] = await query;
    return row?.projectId;
  }

  readonly project = async (principal: Principal, id: number, needed: UserRole) =>
    this.requireRole(principal, id, needed, () => notFound('project', id));

  readonly suite = this.check('suite', (id) =>
    this.one(
      this.db
        .select({ projectId: testSuites.projectId })
        .from(testSuites)
        .where(eq(testSuites.id, id)),
    ),
  );

  readonly environment = this.check('environment', (id) =>
    this.one(
      this.db
        .select({ projectId: environments.projectId })
        .from(environments)
        .where(eq(environments.id, id)),
    ),
  );

  readonly execution = this.check('execution', (id) =>
    this.one(
      this.db
        .select({ projectId: testSuites.projectId })
        .from(testExecutions)
        .innerJoin(testSuites, eq(testSuites.id, testExecutions.suiteId))
        .where(eq(testExecutions.id, id)),
    ),
  );

  readonly result = this.check('result', (id) =>
    this.one(
      this.db
        .select({ projectId: testSuites.projectId })
        .from(testResults)
        .innerJoin(testExecutions, eq(testExecutions.id, testResults.executionId))
        .innerJoin(testSuites, eq(testSuites.id, testExecutions.suiteId))
        .where(eq(testResults.id, id)),
    ),
  );

  readonly artifact = this.check('artifact', (id) =>
    this.one(
      this.db
        .select({ projectId: testSuites.projectId })
        .from(artifacts)
        .innerJoin(testResults, eq(testResults.id, artifacts.resultId))
        .innerJoin(testExecutions, eq(testExecutions.id, testResults.executionId))
        .innerJoin(testSuites, eq(testSuites.id, testExecutions.suiteId))
        .where(eq(artifacts.id, id)),
    ),
  );

  /**
   * The id of the suite a trigger names. Names are unique per project, so the name is looked up
   * in the projects the caller can see (or only in `projectId`): none is a 404 like any invisible
   * object, several is a 400 that lists them, and then the role is checked as usual.
   */
  async suiteByName(
    principal: Principal,
    name: string,
    needed: UserRole,
    projectId?: number,
  ): Promise<number> {
    const rows = await this.db
      .select({ id: testSuites.id, projectId: testSuites.projectId, slug: projects.slug })
      .from(testSuites)
      .innerJoin(projects, eq(projects.id, testSuites.projectId))
      .where(
        and(
          eq(testSuites.name, name),
          projectId === undefined ? undefined : eq(testSuites.projectId, projectId),
        ),
      )
      .orderBy(asc(projects.id));
    const visible = rows.filter((row) => roleIn(principal, row.projectId) !== undefined);
    if (visible.length > 1)
      throw new AppError(
        400,
        'VALIDATION_FAILED',
        `suite_name: there is a suite named ${JSON.stringify(name)} in several of your projects (${visible
          .map((row) => `${row.slug}: project_id ${row.projectId}, suite_id ${row.id}`)
          .join('; ')}); give project_id as well (webguard run: --project), or suite_id`,
        [{ path: 'suite_name', message: 'names a suite in more than one project' }],
      );
    const [suite] = visible;
    this.requireRole(principal, suite?.projectId, needed, () => notFound('suite', name));
    return suite!.id;
  }

  /**
   * Where a new object goes: the named project, else the caller's only project, else the
   * default project; the caller needs `needed` there.
   */
  targetProject(principal: Principal, requested: number | undefined, needed: UserRole): number {
    const projectId =
      requested ??
      (!principal.isAdmin && principal.roles.size === 1
        ? [...principal.roles.keys()][0]!
        : DEFAULT_PROJECT_ID);
    this.requireRole(principal, projectId, needed, () => notFound('project', projectId));
    return projectId;
  }
}
