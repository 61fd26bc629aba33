import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiError,
  Execution,
  ExecutionWithResults,
  IdParams,
  ListExecutionsQuery,
  Page,
  TriggerExecutionBody,
  TriggerExecutionResponse,
} from '@webguard/shared';

const tags = ['executions'];

const triggerSchema = {
  tags,
  body: TriggerExecutionBody,
  response: {
    202: TriggerExecutionResponse,
    404: ApiError,
    409: ApiError,
    422: ApiError,
    503: ApiError,
  },
};

const executionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { executions, executionService } = app.services;

  app.post(
    '/executions',
    {
      schema: {
        ...triggerSchema,
        summary: 'Run a suite',
        description:
          'Returns at once with the execution id; poll GET /executions/{id} for results.',
      },
    },
    async (request, reply) => reply.code(202).send(await executionService.trigger(request.body)),
  );

  app.post(
    '/executions/trigger',
    { schema: { ...triggerSchema, summary: 'Run a suite (alias of POST /executions)' } },
    async (request, reply) => reply.code(202).send(await executionService.trigger(request.body)),
  );

  app.get(
    '/executions',
    {
      schema: {
        tags,
        summary: 'List executions, newest first',
        querystring: ListExecutionsQuery,
        response: { 200: Page(Execution) },
      },
    },
    async (request) => executions.list(request.query),
  );

  app.get(
    '/executions/:id',
    {
      schema: {
        tags,
        summary: 'Get an execution with every case result',
        params: IdParams,
        response: { 200: ExecutionWithResults, 404: ApiError },
      },
    },
    async (request) => executions.getWithResults(request.params.id),
  );
};

export default executionRoutes;
