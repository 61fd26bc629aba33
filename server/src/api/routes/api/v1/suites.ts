import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateSuiteBody,
  IdParams,
  ListSuitesQuery,
  Page,
  Suite,
  UpdateSuiteBody,
} from '@webguard/shared';

const tags = ['suites'];

const suiteRoutes: FastifyPluginAsyncZod = async (app) => {
  const { suites } = app.services;

  app.get(
    '/suites',
    {
      schema: {
        tags,
        summary: 'List suites',
        querystring: ListSuitesQuery,
        response: { 200: Page(Suite) },
      },
    },
    async (request) => suites.list(request.query),
  );

  app.post(
    '/suites',
    {
      schema: {
        tags,
        summary: 'Create a suite',
        body: CreateSuiteBody,
        response: { 201: Suite, 409: ApiError },
      },
    },
    async (request, reply) => reply.code(201).send(await suites.create(request.body)),
  );

  app.get(
    '/suites/:id',
    {
      schema: {
        tags,
        summary: 'Get a suite',
        params: IdParams,
        response: { 200: Suite, 404: ApiError },
      },
    },
    async (request) => suites.get(request.params.id),
  );

  app.patch(
    '/suites/:id',
    {
      schema: {
        tags,
        summary: 'Change some fields of a suite',
        params: IdParams,
        body: UpdateSuiteBody,
        response: { 200: Suite, 404: ApiError, 409: ApiError },
      },
    },
    async (request) => suites.update(request.params.id, request.body),
  );

  app.delete(
    '/suites/:id',
    {
      schema: {
        tags,
        summary: 'Delete a suite with its cases and run history',
        params: IdParams,
        response: { 204: z.null(), 404: ApiError },
      },
    },
    async (request, reply) => {
      await suites.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
};

export default suiteRoutes;
