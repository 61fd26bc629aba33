import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  ApiToken,
  CreateApiTokenBody,
  CreatedApiToken,
  CreateUserBody,
  TokenPair,
  UpdateUserBody,
  User,
  UserRole,
} from '@webguard/shared';
import type { AuthRepository } from '../db/auth-repository.js';
import { AppError } from '../errors.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { Principal } from './principal.js';
import type { TokenSigner } from './token-signer.js';

/** API tokens start with this, so they are told apart from JWTs and found by secret scanners. */
export const API_TOKEN_PREFIX = 'wgt_';

export const unauthorized = (message: string) => new AppError(401, 'UNAUTHORIZED', message);

/** Tokens are 256 random bits: a fast hash is enough to store them safely, and lookups stay cheap. */
export const hashApiToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Sign-in, token checks and the user and token lifecycle. */
export class AuthService {
  constructor(
    private readonly repository: AuthRepository,
    private readonly signer: TokenSigner,
    private readonly logger: Logger,
    /** See `AuthConfig.refreshReuseGraceSeconds`. */
    private readonly refreshReuseGraceSeconds = 10,
  ) {}

  /** 1. First start: make sure an administrator exists, printing a generated password once. */
  async bootstrapAdmin(options: {
    email: string;
    password: string | undefined;
  }): Promise<{ created: boolean; generatedPassword?: string }> {
    if ((await this.repository.countUsers()) > 0) return { created: false };
    const generated = options.password ? undefined : randomBytes(18).toString('base64url');
    try {
      await this.repository.createUser({
        email: options.email,
        name: 'Administrator',
        passwordHash: await hashPassword(options.password ?? generated!),
        isAdmin: true,
        memberships: [],
      });
    } catch (error) {
      // Another process started at the same moment and created it.
      if (error instanceof AppError && error.code === 'CONFLICT') return { created: false };
      throw error;
    }
    this.logger.info({ email: options.email }, 'created the first administrator');
    return generated ? { created: true, generatedPassword: generated } : { created: true };
  }

  async login(email: string, password: string): Promise<TokenPair> {
    const record = await this.repository.findUserByEmail(email);
    // The hash is checked even for an unknown e-mail, so timing does not reveal which exist.
    const ok = await verifyPassword(record?.passwordHash ?? DUMMY_HASH, password);
    if (!record || !ok || record.user.disabled)
      throw unauthorized('wrong e-mail or password, or the account is disabled');
    await this.repository.recordLogin(record.user.id);
    return this.issue(record.user.id);
  }

  /**
   * Swaps a live refresh token for a new pair; the presented one stops working. A token that was
   * already swapped means a copy is in someone else's hands: its whole session is revoked,
   * unless it was swapped only moments ago (two tabs of one session refreshing at once), which
   * answers the session's current token instead.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const refused = unauthorized('the refresh token is invalid, expired or revoked; sign in again');
    const verified = await this.signer.verify(refreshToken, 'refresh');
    if (!verified?.jti) throw refused;
    const next = this.nextRefreshToken(verified.userId);
    const rotation = await this.repository.rotateRefreshToken(
      verified.jti,
      next,
      this.refreshReuseGraceSeconds,
    );
    if (rotation.outcome === 'reused') {
      await this.repository.revokeRefreshFamily(rotation.familyId, 'reuse');
      this.logger.warn(
        { userId: rotation.userId },
        'a refresh token was used twice; its session is revoked',
      );
    }
    if (rotation.outcome !== 'rotated' && rotation.outcome !== 'raced') throw refused;
    const record = await this.repository.findUser(rotation.userId);
    if (!record || record.user.disabled) throw refused;
    return this.pair(record.user.id, {
      refreshJti: rotation.outcome === 'raced' ? rotation.jti : next.jti,
      sessionId: rotation.familyId,
    });
  }

  /** Ends the sign-in session a refresh token belongs to; nothing issued in it refreshes again. */
  async logout(refreshToken: string): Promise<void> {
    const verified = await this.signer.verify(refreshToken, 'refresh');
    const familyId = verified?.jti && (await this.repository.findRefreshFamily(verified.jti));
    if (!familyId)
      throw unauthorized('the refresh token is invalid or expired: there is no session to end');
    await this.repository.revokeRefreshFamily(familyId, 'logout');
  }

  /** A new sign-in session: the first refresh token of a new family. */
  private async issue(userId: number): Promise<TokenPair> {
    const next = this.nextRefreshToken(userId);
    const familyId = randomUUID();
    await this.repository.createRefreshToken({ ...next, familyId });
    return this.pair(userId, { refreshJti: next.jti, sessionId: familyId });
  }

  private nextRefreshToken(userId: number) {
    return {
      jti: randomUUID(),
      userId,
      expiresAt: new Date(Date.now() + this.signer.refreshTtl * 1000),
    };
  }

  /** An access token and a refresh token of one sign-in session (refresh token family). */
  private async pair(
    userId: number,
    ids: { refreshJti: string; sessionId: string },
  ): Promise<TokenPair> {
    return {
      access_token: await this.signer.sign(userId, 'access', { sessionId: ids.sessionId }),
      refresh_token: await this.signer.sign(userId, 'refresh', { jti: ids.refreshJti }),
      expires_in: this.signer.accessTtl,
      token_type: 'Bearer',
    };
  }

  /**
   * The principal behind an `Authorization: Bearer` value: an API token (`wgt_…`) or a user's
   * access JWT. Roles are read on every call, so a revoked role takes effect at once, and so is
   * the token's sign-in session, so signing out (or a password change) ends it at once too.
   */
  async authenticate(bearer: string): Promise<Principal> {
    if (bearer.startsWith(API_TOKEN_PREFIX)) return this.authenticateApiToken(bearer);
    const refused = unauthorized(
      'the access token is invalid or expired; sign in again or refresh it',
    );
    const verified = await this.signer.verify(bearer, 'access');
    if (!verified) throw refused;
    const [record, sessionLive] = await Promise.all([
      this.repository.findUser(verified.userId),
      verified.sessionId === undefined || this.repository.sessionIsLive(verified.sessionId),
    ]);
    if (!record || record.user.disabled) throw refused;
    if (!sessionLive) {
      throw unauthorized('this sign-in session has ended (signed out or revoked); sign in again');
    }
    return userPrincipal(record.user);
  }

  private async authenticateApiToken(secret: string): Promise<Principal> {
    const token = await this.repository.findTokenByHash(hashApiToken(secret));
    if (!token) throw unauthorized('unknown API token');
    if (token.revoked_at) throw unauthorized(`API token "${token.name}" has been revoked`);
    if (token.expires_at && Date.parse(token.expires_at) <= Date.now())
      throw unauthorized(`API token "${token.name}" expired at ${token.expires_at}`);
    await this.repository.touchToken(token.id);
    return {
      kind: 'token',
      userId: token.created_by,
      tokenId: token.id,
      name: token.name,
      isAdmin: false,
      roles: new Map([[token.project_id, token.role]]),
    };
  }

  async me(principal: Principal) {
    if (principal.kind === 'token') {
      const token = await this.repository.findToken(principal.tokenId!);
      return {
        kind: 'token' as const,
        user: null,
        token: token
          ? {
              id: token.id,
              name: token.name,
              project_id: token.project_id,
              role: token.role,
              expires_at: token.expires_at,
            }
          : null,
      };
    }
    return {
      kind: 'user' as const,
      user: await this.repository.getUser(principal.userId!),
      token: null,
    };
  }

  /** Creates an API token; the secret is in the answer and nowhere else, ever. */
  async createToken(body: CreateApiTokenBody, createdBy: number | null): Promise<CreatedApiToken> {
    const project = await this.repository.findProject(body.project_id);
    if (!project) throw new AppError(404, 'NOT_FOUND', `project ${body.project_id} does not exist`);
    const secret = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const token = await this.repository.createToken({
      name: body.name,
      projectId: body.project_id,
      role: body.role,
      tokenHash: hashApiToken(secret),
      tokenPrefix: secret.slice(0, 12),
      createdBy,
      expiresAt:
        body.expires_in_days === null
          ? null
          : new Date(Date.now() + body.expires_in_days * 86_400_000),
    });
    return { ...token, token: secret };
  }

  listTokens(projectIds: number[] | undefined, includeRevoked: boolean): Promise<ApiToken[]> {
    return this.repository.listTokens({ projectIds, includeRevoked });
  }

  findToken(id: number): Promise<ApiToken | undefined> {
    return this.repository.findToken(id);
  }

  revokeToken(id: number): Promise<ApiToken> {
    return this.repository.revokeToken(id);
  }

  /** Changes a user's own password after checking the current one. */
  async changePassword(userId: number, current: string, next: string): Promise<void> {
    const record = await this.repository.findUser(userId);
    if (!record || !(await verifyPassword(record.passwordHash ?? DUMMY_HASH, current)))
      throw new AppError(400, 'VALIDATION_FAILED', 'the current password is wrong', [
        { path: 'current_password', message: 'does not match' },
      ]);
    await this.repository.updateUser(userId, { passwordHash: await hashPassword(next) });
    await this.repository.revokeUserRefreshTokens(userId, 'account');
  }

  async createUser(body: CreateUserBody): Promise<User> {
    await this.checkProjects(body.memberships);
    return this.repository.createUser({
      email: body.email,
      name: body.name,
      passwordHash: await hashPassword(body.password),
      isAdmin: body.is_admin,
      memberships: body.memberships,
    });
  }

  /** Disabling a user or setting their password also ends every session they have. */
  async updateUser(id: number, body: UpdateUserBody): Promise<User> {
    if (body.memberships) await this.checkProjects(body.memberships);
    const user = await this.repository.updateUser(id, {
      name: body.name,
      passwordHash: body.password === undefined ? undefined : await hashPassword(body.password),
      isAdmin: body.is_admin,
      disabled: body.disabled,
      memberships: body.memberships,
    });
    if (body.disabled === true || body.password !== undefined)
      await this.repository.revokeUserRefreshTokens(id, 'account');
    return user;
  }

  private async checkProjects(memberships: { project_id: number; role: UserRole }[]) {
    for (const [index, membership] of memberships.entries()) {
      if (!(await this.repository.findProject(membership.project_id)))
        throw new AppError(
          400,
          'VALIDATION_FAILED',
          `memberships.${index}.project_id: project ${membership.project_id} does not exist`,
          [{ path: `memberships.${index}.project_id`, message: 'no such project' }],
        );
    }
  }
}

function userPrincipal(user: User): Principal {
  return {
    kind: 'user',
    userId: user.id,
    tokenId: null,
    name: user.email,
    isAdmin: user.is_admin,
    roles: new Map(user.memberships.map((m) => [m.project_id, m.role])),
  };
}
