import { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { ApiToken, Project, ProjectMembership, User, UserRole } from '@webguard/shared';
import { conflict, isUniqueViolation, notFound } from '../errors.js';
import type { Database } from './database.js';
import {
  apiTokens,
  projectMembers,
  projects,
  refreshTokens,
  type RefreshTokenRevocation,
  users,
} from './schema.js';

type UserRow = typeof users.$inferSelect;
type TokenRow = typeof apiTokens.$inferSelect;

/** A user with the secret fields the API never returns. */
export interface UserRecord {
  user: User;
  passwordHash: string | null;
}

export interface NewUser {
  email: string;
  name?: string | null | undefined;
  passwordHash: string;
  isAdmin: boolean;
  memberships: { project_id: number; role: UserRole }[];
}

export interface NewApiToken {
  name: string;
  projectId: number;
  role: UserRole;
  tokenHash: string;
  tokenPrefix: string;
  createdBy: number | null;
  expiresAt: Date | null;
}

export interface NewRefreshToken {
  jti: string;
  familyId: string;
  userId: number;
  expiresAt: Date;
}

/** What presenting a refresh token for rotation found. */
export type RefreshRotation =
  /** It was live: it is now spent and `next` replaces it in its family. */
  | { outcome: 'rotated'; userId: number; familyId: string }
  /**
   * It was rotated moments ago (within the grace given): a second client of the same session
   * refreshing at the same time. `jti` is the session's token that is live now.
   */
  | { outcome: 'raced'; userId: number; familyId: string; jti: string }
  /** It had already been rotated: someone holds a copy. */
  | { outcome: 'reused'; userId: number; familyId: string }
  /** Unknown, expired, or revoked by a sign-out or an account change. */
  | { outcome: 'refused' };

/** A refresh token neither revoked nor expired. */
const liveRefreshToken = and(
  isNull(refreshTokens.revokedAt),
  gt(refreshTokens.expiresAt, sql`now()`),
);

/** The newest live refresh token of a sign-in session (token family), if it has one. */
async function liveTokenOf(db: Database, familyId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ jti: refreshTokens.jti })
    .from(refreshTokens)
    .where(and(eq(refreshTokens.familyId, familyId), liveRefreshToken))
    .orderBy(desc(refreshTokens.createdAt))
    .limit(1);
  return row?.jti;
}

const toProject = (row: typeof projects.$inferSelect): Project => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  created_at: row.createdAt.toISOString(),
});

const toApiToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  project_id: row.projectId,
  role: row.role as UserRole,
  prefix: row.tokenPrefix,
  created_by: row.userId,
  created_at: row.createdAt.toISOString(),
  expires_at: row.expiresAt?.toISOString() ?? null,
  last_used_at: row.lastUsedAt?.toISOString() ?? null,
  revoked_at: row.revokedAt?.toISOString() ?? null,
});

/** Users, their project roles, projects and API tokens. */
export class AuthRepository {
  constructor(private readonly db: Database) {}

  private async memberships(userId: number): Promise<ProjectMembership[]> {
    const rows = await this.db
      .select({
        projectId: projectMembers.projectId,
        slug: projects.slug,
        role: projectMembers.role,
      })
      .from(projectMembers)
      .innerJoin(projects, eq(projects.id, projectMembers.projectId))
      .where(eq(projectMembers.userId, userId))
      .orderBy(asc(projects.id));
    return rows.map((row) => ({
      project_id: row.projectId,
      project_slug: row.slug,
      role: row.role as UserRole,
    }));
  }

  private async toRecord(row: UserRow): Promise<UserRecord> {
    return {
      passwordHash: row.passwordHash,
      user: {
        id: row.id,
        email: row.email,
        name: row.displayName,
        is_admin: row.isAdmin,
        disabled: row.disabled,
        memberships: await this.memberships(row.id),
        created_at: row.createdAt.toISOString(),
        last_login_at: row.lastLoginAt?.toISOString() ?? null,
      },
    };
  }

  async countUsers(): Promise<number> {
    const [row] = await this.db.select({ value: sql<number>`count(*)::int` }).from(users);
    return row?.value ?? 0;
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email.toLowerCase()));
    return row && this.toRecord(row);
  }

  async findUser(id: number): Promise<UserRecord | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row && this.toRecord(row);
  }

  async getUser(id: number): Promise<User> {
    const record = await this.findUser(id);
    if (!record) throw notFound('user', id);
    return record.user;
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.select().from(users).orderBy(asc(users.id));
    return Promise.all(rows.map(async (row) => (await this.toRecord(row)).user));
  }

  /** Creates the user with its memberships in one transaction; a taken e-mail is a 409. */
  async createUser(input: NewUser): Promise<User> {
    try {
      const id = await this.db.transaction(async (tx) => {
        const [row] = await tx
          .insert(users)
          .values({
            email: input.email.toLowerCase(),
            displayName: input.name ?? null,
            passwordHash: input.passwordHash,
            isAdmin: input.isAdmin,
          })
          .returning({ id: users.id });
        if (input.memberships.length > 0)
          await tx.insert(projectMembers).values(
            input.memberships.map((membership) => ({
              userId: row!.id,
              projectId: membership.project_id,
              role: membership.role,
            })),
          );
        return row!.id;
      });
      return this.getUser(id);
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(`a user with e-mail ${JSON.stringify(input.email)} already exists`);
      throw error;
    }
  }

  async updateUser(
    id: number,
    changes: {
      name?: string | null | undefined;
      passwordHash?: string | undefined;
      isAdmin?: boolean | undefined;
      disabled?: boolean | undefined;
      memberships?: { project_id: number; role: UserRole }[] | undefined;
    },
  ): Promise<User> {
    await this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(users)
        .set({
          displayName: changes.name,
          passwordHash: changes.passwordHash,
          isAdmin: changes.isAdmin,
          disabled: changes.disabled,
          updatedAt: new Date(),
        })
        .where(eq(users.id, id))
        .returning({ id: users.id });
      if (!row) throw notFound('user', id);
      if (changes.memberships) {
        await tx.delete(projectMembers).where(eq(projectMembers.userId, id));
        if (changes.memberships.length > 0)
          await tx.insert(projectMembers).values(
            changes.memberships.map((membership) => ({
              userId: id,
              projectId: membership.project_id,
              role: membership.role,
            })),
          );
      }
    });
    return this.getUser(id);
  }

  async recordLogin(id: number): Promise<void> {
    await this.db.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, id));
  }

  async listProjects(ids?: number[]): Promise<Project[]> {
    const rows = await this.db.select().from(projects).orderBy(asc(projects.id));
    return rows.filter((row) => !ids || ids.includes(row.id)).map(toProject);
  }

  async findProject(idOrSlug: number | string): Promise<Project | undefined> {
    const [row] = await this.db
      .select()
      .from(projects)
      .where(
        typeof idOrSlug === 'number' ? eq(projects.id, idOrSlug) : eq(projects.slug, idOrSlug),
      );
    return row && toProject(row);
  }

  async createProject(slug: string, name: string): Promise<Project> {
    try {
      const [row] = await this.db.insert(projects).values({ slug, name }).returning();
      return toProject(row!);
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(`a project with slug ${JSON.stringify(slug)} already exists`);
      throw error;
    }
  }

  async createToken(input: NewApiToken): Promise<ApiToken> {
    const [row] = await this.db
      .insert(apiTokens)
      .values({
        name: input.name,
        projectId: input.projectId,
        role: input.role,
        tokenHash: input.tokenHash,
        tokenPrefix: input.tokenPrefix,
        userId: input.createdBy,
        expiresAt: input.expiresAt,
      })
      .returning();
    return toApiToken(row!);
  }

  /** The token with this hash, whatever its state: the caller decides what revoked or expired means. */
  async findTokenByHash(tokenHash: string): Promise<ApiToken | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
    return row && toApiToken(row);
  }

  async findToken(id: number): Promise<ApiToken | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.id, id));
    return row && toApiToken(row);
  }

  async listTokens(filter: {
    projectIds?: number[] | undefined;
    includeRevoked: boolean;
  }): Promise<ApiToken[]> {
    const rows = await this.db
      .select()
      .from(apiTokens)
      .where(filter.includeRevoked ? undefined : isNull(apiTokens.revokedAt))
      .orderBy(desc(apiTokens.id));
    return rows
      .filter((row) => !filter.projectIds || filter.projectIds.includes(row.projectId))
      .map(toApiToken);
  }

  async revokeToken(id: number): Promise<ApiToken> {
    const [row] = await this.db
      .update(apiTokens)
      .set({ revokedAt: sql`COALESCE(${apiTokens.revokedAt}, now())` })
      .where(eq(apiTokens.id, id))
      .returning();
    if (!row) throw notFound('API token', id);
    return toApiToken(row);
  }

  /** Writes last-used at most once a minute per token, so busy CI tokens cost no write per call. */
  async touchToken(id: number): Promise<void> {
    await this.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date() })
      .where(
        and(
          eq(apiTokens.id, id),
          or(
            isNull(apiTokens.lastUsedAt),
            lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`),
          ),
        ),
      );
  }

  /** Records a new refresh token, clearing the user's expired ones so the table stays small. */
  async createRefreshToken(input: NewRefreshToken): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .delete(refreshTokens)
        .where(
          and(eq(refreshTokens.userId, input.userId), lt(refreshTokens.expiresAt, sql`now()`)),
        );
      await tx.insert(refreshTokens).values(input);
    });
  }

  /**
   * Spends a live refresh token and records its successor in the same family, in one
   * transaction: of two requests racing with one token, only one gets a successor.
   */
  async rotateRefreshToken(
    jti: string,
    next: Omit<NewRefreshToken, 'familyId'>,
    graceSeconds: number,
  ): Promise<RefreshRotation> {
    return this.db.transaction(async (tx) => {
      const [spent] = await tx
        .update(refreshTokens)
        .set({ revokedAt: new Date(), revokedReason: 'rotated' })
        .where(and(eq(refreshTokens.jti, jti), liveRefreshToken))
        .returning();
      if (spent) {
        await tx.insert(refreshTokens).values({ ...next, familyId: spent.familyId });
        return { outcome: 'rotated', userId: spent.userId, familyId: spent.familyId } as const;
      }
      const [known] = await tx.select().from(refreshTokens).where(eq(refreshTokens.jti, jti));
      if (known?.revokedReason !== 'rotated') return { outcome: 'refused' } as const;
      const rotatedMsAgo = Date.now() - (known.revokedAt?.getTime() ?? 0);
      if (rotatedMsAgo <= graceSeconds * 1000) {
        const live = await liveTokenOf(tx, known.familyId);
        // A session signed out or revoked in the meantime has no live token: refused.
        return live
          ? ({
              outcome: 'raced',
              userId: known.userId,
              familyId: known.familyId,
              jti: live,
            } as const)
          : ({ outcome: 'refused' } as const);
      }
      return { outcome: 'reused', userId: known.userId, familyId: known.familyId } as const;
    });
  }

  /**
   * Whether a sign-in session still has a live refresh token: signing out, a detected reuse or an
   * account change revoke them all, which ends the session's access tokens too.
   */
  async sessionIsLive(familyId: string): Promise<boolean> {
    return (await liveTokenOf(this.db, familyId)) !== undefined;
  }

  /** The family (sign-in session) a refresh token belongs to, if it was ever issued. */
  async findRefreshFamily(jti: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.jti, jti));
    return row?.familyId;
  }

  /** Revokes every still-live token of one sign-in session; returns how many. */
  async revokeRefreshFamily(familyId: string, reason: RefreshTokenRevocation): Promise<number> {
    const rows = await this.db
      .update(refreshTokens)
      .set({ revokedAt: new Date(), revokedReason: reason })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
      .returning({ jti: refreshTokens.jti });
    return rows.length;
  }

  /** Revokes every still-live refresh token of a user, ending all their sessions at the next refresh. */
  async revokeUserRefreshTokens(userId: number, reason: RefreshTokenRevocation): Promise<number> {
    const rows = await this.db
      .update(refreshTokens)
      .set({ revokedAt: new Date(), revokedReason: reason })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)))
      .returning({ jti: refreshTokens.jti });
    return rows.length;
  }
}
