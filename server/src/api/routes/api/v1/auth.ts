import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  ApiToken,
  ApiTokenListQuery,
  ChangePasswordBody,
  CreateApiTokenBody,
  CreatedApiToken,
  IdParams,
  LoginBody,
  LoginResponse,
  LogoutBody,
  MeResponse,
  RefreshBody,
  RefreshResponse,
} from '@webguard/shared';
import { forbidden, hasRole, roleIn, type Principal } from '../../../../auth/index.js';
import { notFound } from '../../../../errors.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['auth'];

/** Tokens are managed by people: a token cannot mint or revoke tokens. */
function requireUser(principal: Principal): number {
  if (principal.kind !== 'user' || principal.userId === null)
    throw forbidden('an API token cannot do this; sign in as a user');
  return principal.userId;
}

/** A project's administrators manage all its tokens; anyone manages the tokens they created. */
const manages = (principal: Principal, token: ApiToken) =>
  roleIn(principal, token.project_id) === 'admin' || token.created_by === principal.userId;

const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { auth } = app.services;

  app.post(
    '/auth/login',
    {
      config: { rateLimit: app.limits.login },
      schema: {
        tags,
        summary: 'Sign in with e-mail and password',
        body: LoginBody,
        response: { 200: LoginResponse, 400: ApiError, 401: ApiError, 429: ApiError },
      },
    },
    async (request) => auth.login(request.body.email, request.body.password),
  );

  app.post(
    '/auth/refresh',
    {
      config: { rateLimit: app.limits.login },
      schema: {
        tags,
        summary: 'Swap a refresh token for a new token pair',
        description:
          'The refresh token sent stops working. Sending one that was already swapped revokes its whole session: a copy of it is in someone else’s hands.',
        body: RefreshBody,
        response: { 200: RefreshResponse, 401: ApiError, 429: ApiError },
      },
    },
    async (request) => auth.refresh(request.body.refresh_token),
  );

  app.post(
    '/auth/logout',
    {
      config: { rateLimit: app.limits.login },
      schema: {
        tags,
        summary: 'Sign out: the refresh token’s session ends, its access tokens with it',
        description:
          'The session can no longer be refreshed, and the access tokens issued in it are refused from now on.',
        body: LogoutBody,
        response: { 204: z.null(), 400: ApiError, 401: ApiError, 429: ApiError },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refresh_token);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags,
        summary: 'Who the credentials belong to, with their project roles',
        response: { 200: MeResponse, 401: ApiError },
      },
    },
    async (request) => auth.me(principalOf(request)),
  );

  app.post(
    '/auth/password',
    {
      // Its own counter: guessing the current password is rate limited like signing in.
      config: { rateLimit: { ...app.limits.login, groupId: 'password' } },
      schema: {
        tags,
        summary: 'Change your own password',
        description:
          'Ends every sign-in session of yours, this one included: sign in again with the new password.',
        body: ChangePasswordBody,
        response: { 204: z.null(), 400: ApiError, 403: ApiError, 429: ApiError },
      },
    },
    async (request, reply) => {
      const userId = requireUser(principalOf(request));
      await auth.changePassword(userId, request.body.current_password, request.body.new_password);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/tokens',
    {
      schema: {
        tags,
        summary: 'List API tokens you manage (never their secrets)',
        querystring: ApiTokenListQuery,
        response: { 200: z.object({ items: z.array(ApiToken) }), 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireUser(principal);
      const tokens = await auth.listTokens(
        request.query.project_id === undefined ? undefined : [request.query.project_id],
        request.query.include_revoked,
      );
      return { items: tokens.filter((token) => manages(principal, token)) };
    },
  );

  app.post(
    '/auth/tokens',
    {
      schema: {
        tags,
        summary: 'Create an API token for one project (the secret is shown once)',
        description:
          'The token acts in `project_id` with `role`, which may not exceed your own role there.',
        body: CreateApiTokenBody,
        response: { 201: CreatedApiToken, 400: ApiError, 403: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const userId = requireUser(principal);
      const role = roleIn(principal, request.body.project_id);
      if (role === undefined) throw notFound('project', request.body.project_id);
      if (!hasRole(role, request.body.role))
        throw forbidden(
          `a token cannot have more rights than you: your role is ${role}, the token asks for ${request.body.role}`,
        );
      return reply.code(201).send(await auth.createToken(request.body, userId));
    },
  );

  app.delete(
    '/auth/tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an API token; it stops working at once',
        params: IdParams,
        response: { 200: ApiToken, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireUser(principal);
      const token = await auth.findToken(request.params.id);
      if (!token || !manages(principal, token)) {
        if (token && roleIn(principal, token.project_id) !== undefined)
          throw forbidden('only the project’s administrators or the token’s creator may revoke it');
        throw notFound('API token', request.params.id);
      }
      return auth.revokeToken(token.id);
    },
  );
};

export default authRoutes;
