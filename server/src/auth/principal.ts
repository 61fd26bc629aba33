import type { UserRole } from '@webguard/shared';

/** Who a request acts as, and the role it has in each project it can see. */
export interface Principal {
  kind: 'user' | 'token';
  /** The signed-in user, or the token's creator. */
  userId: number | null;
  tokenId: number | null;
  /** E-mail or token name, for logs. */
  name: string;
  /** Administrators have the admin role in every project. */
  isAdmin: boolean;
  roles: ReadonlyMap<number, UserRole>;
}

const RANK: Record<UserRole, number> = { viewer: 1, tester: 2, admin: 3 };

export function roleIn(principal: Principal, projectId: number): UserRole | undefined {
  return principal.isAdmin ? 'admin' : principal.roles.get(projectId);
}

export function hasRole(role: UserRole | undefined, needed: UserRole): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}

/** The projects a principal can see; undefined means all of them (an administrator). */
export function visibleProjects(principal: Principal): number[] | undefined {
  return principal.isAdmin ? undefined : [...principal.roles.keys()];
}
