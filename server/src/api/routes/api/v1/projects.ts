import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, CreateProjectBody, IdParams, Project } from '@webguard/shared';
import { visibleProjects } from '../../../../auth/index.js';
import { notFound } from '../../../../errors.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['projects'];

const projectRoutes: FastifyPluginAsyncZod = async (app) => {
  const { access, accounts } = app.services;

  app.get(
    '/projects',
    {
      schema: {
        tags,
        summary: 'List the projects you can see',
        response: { 200: z.object({ items: z.array(Project) }) },
      },
    },
    async (request) => ({
      items: await accounts.listProjects(visibleProjects(principalOf(request))),
    }),
  );

  app.post(
    '/projects',
    {
      schema: {
        tags,
        summary: 'Create a project (administrators)',
        body: CreateProjectBody,
        response: { 201: Project, 403: ApiError, 409: ApiError },
      },
    },
    async (request, reply) => {
      access.requireAdmin(principalOf(request));
      return reply
        .code(201)
        .send(await accounts.createProject(request.body.slug, request.body.name));
    },
  );

  app.get(
    '/projects/:id',
    {
      schema: {
        tags,
        summary: 'Get a project',
        params: IdParams,
        response: { 200: Project, 404: ApiError },
      },
    },
    async (request) => {
      await access.project(principalOf(request), request.params.id, 'viewer');
      const project = await accounts.findProject(request.params.id);
      if (!project) throw notFound('project', request.params.id);
      return project;
    },
  );
};

export default projectRoutes;
