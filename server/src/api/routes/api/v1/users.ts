import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, CreateUserBody, IdParams, UpdateUserBody, User } from '@webguard/shared';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['users'];

/** Inviting people and setting their roles is for administrators only. */
const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { access, auth, accounts } = app.services;

  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users (administrators)',
        response: { 200: z.object({ items: z.array(User) }), 403: ApiError },
      },
    },
    async (request) => {
      access.requireAdmin(principalOf(request));
      return { items: await accounts.listUsers() };
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user with roles per project (administrators)',
        body: CreateUserBody,
        response: { 201: User, 400: ApiError, 403: ApiError, 409: ApiError },
      },
    },
    async (request, reply) => {
      access.requireAdmin(principalOf(request));
      return reply.code(201).send(await auth.createUser(request.body));
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Get a user (administrators)',
        params: IdParams,
        response: { 200: User, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      access.requireAdmin(principalOf(request));
      return accounts.getUser(request.params.id);
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a user: name, password, roles, disable (administrators)',
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: User, 400: ApiError, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      access.requireAdmin(principalOf(request));
      return auth.updateUser(request.params.id, request.body);
    },
  );
};

export default userRoutes;
