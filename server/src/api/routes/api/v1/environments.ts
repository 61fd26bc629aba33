import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateEnvironmentBody,
  Environment,
  IdParams,
  Page,
  PaginationQuery,
  UpdateEnvironmentBody,
} from '@webguard/shared';
import { visibleProjects } from '../../../../auth/index.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['environments'];

/** Named sets of variables and secrets a run reads as `${{ env.X }}` and `${{ secrets.X }}`. */
const environmentRoutes: FastifyPluginAsyncZod = async (app) => {
  const { environments, access } = app.services;

  app.get(
    '/environments',
    {
      schema: {
        tags,
        summary: 'List environments',
        querystring: PaginationQuery,
        response: { 200: Page(Environment) },
      },
    },
    async (request) => environments.list(request.query, visibleProjects(principalOf(request))),
  );

  app.post(
    '/environments',
    {
      schema: {
        tags,
        summary: 'Create an environment',
        description:
          'Secret values are stored encrypted and never returned; responses list their names.',
        body: CreateEnvironmentBody,
        response: { 201: Environment, 409: ApiError },
      },
    },
    async (request, reply) => {
      const projectId = access.targetProject(
        principalOf(request),
        request.body.project_id,
        'tester',
      );
      return reply
        .code(201)
        .send(await environments.create({ ...request.body, project_id: projectId }));
    },
  );

  app.get(
    '/environments/:id',
    {
      schema: {
        tags,
        summary: 'Get an environment',
        params: IdParams,
        response: { 200: Environment, 404: ApiError },
      },
    },
    async (request) => {
      await access.environment(principalOf(request), request.params.id, 'viewer');
      return environments.get(request.params.id);
    },
  );

  app.patch(
    '/environments/:id',
    {
      schema: {
        tags,
        summary: 'Change an environment; `secrets` sets or (with null) deletes single secrets',
        params: IdParams,
        body: UpdateEnvironmentBody,
        response: { 200: Environment, 404: ApiError, 409: ApiError },
      },
    },
    async (request) => {
      await access.environment(principalOf(request), request.params.id, 'tester');
      return environments.update(request.params.id, request.body);
    },
  );

  app.delete(
    '/environments/:id',
    {
      schema: {
        tags,
        summary: 'Delete an environment',
        params: IdParams,
        response: { 204: z.null(), 404: ApiError },
      },
    },
    async (request, reply) => {
      await access.environment(principalOf(request), request.params.id, 'tester');
      await environments.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
};

export default environmentRoutes;
