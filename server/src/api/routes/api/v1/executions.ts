import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiError,
  Execution,
  ExecutionCaseList,
  ExecutionWithResults,
  IdempotencyHeaders,
  IdParams,
  ListExecutionsQuery,
  Page,
  RerunQuery,
  TriggerExecutionBody,
  TriggerExecutionResponse,
} from '@webguard/shared';
import { visibleProjects } from '../../../../auth/index.js';
import type { TriggerResult } from '../../../../services/execution-service.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['executions'];

const triggerSchema = {
  tags,
  body: TriggerExecutionBody,
  headers: IdempotencyHeaders,
  response: {
    202: TriggerExecutionResponse,
    400: ApiError,
    403: ApiError,
    404: ApiError,
    429: ApiError,
    409: ApiError,
    422: ApiError,
    503: ApiError,
  },
};

const triggerDescription =
  'Returns at once with the execution id; poll GET /executions/{id} for results. A repeated ' +
  'request with the same `Idempotency-Key` header (or a CI trigger for a commit whose run is ' +
  'still going) returns the existing execution, marked with `Idempotent-Replayed: true`.';

const executionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { executions, executionService, coordinator, access } = app.services;

  /** 202 with the run's id; a replayed trigger says so in a header. */
  const sendAccepted = (reply: FastifyReply, result: TriggerResult) => {
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return reply.code(202).send({
      execution_id: result.execution_id,
      status: result.status,
      total_tests: result.total_tests,
    });
  };

  // The design's POST /executions/trigger stays as an alias of POST /executions.
  const triggerRoutes = [
    ['/executions', 'Run a suite'],
    ['/executions/trigger', 'Run a suite (alias of POST /executions)'],
  ] as const;
  for (const [url, summary] of triggerRoutes) {
    app.post(
      url,
      {
        config: { rateLimit: app.limits.trigger },
        schema: { ...triggerSchema, summary, description: triggerDescription },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { suite_id, suite_name, project_id, ...rest } = request.body;
        if (suite_id !== undefined) await access.suite(principal, suite_id, 'tester');
        const suiteId =
          suite_id ?? (await access.suiteByName(principal, suite_name!, 'tester', project_id));
        return sendAccepted(
          reply,
          await executionService.trigger(
            { ...rest, suite_id: suiteId },
            { idempotencyKey: request.headers['idempotency-key'] },
          ),
        );
      },
    );
  }

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
    async (request) => executions.list(request.query, visibleProjects(principalOf(request))),
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
    async (request) => {
      await access.execution(principalOf(request), request.params.id, 'viewer');
      return executions.getWithResults(request.params.id);
    },
  );

  app.get(
    '/executions/:id/cases',
    {
      schema: {
        tags,
        summary: 'Where each case of an execution stands now: pending, queued, running or done',
        params: IdParams,
        response: { 200: ExecutionCaseList, 404: ApiError },
      },
    },
    async (request) => {
      await access.execution(principalOf(request), request.params.id, 'viewer');
      return { items: await executions.cases(request.params.id) };
    },
  );

  app.post(
    '/executions/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a run',
        description:
          'Cases not started are recorded as skipped, running ones are aborted. Cancelling a finished run changes nothing.',
        params: IdParams,
        response: { 200: Execution, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      await access.execution(principalOf(request), request.params.id, 'tester');
      await executions.get(request.params.id);
      return coordinator.cancel(request.params.id, {
        status: 'cancelled',
        reason: 'cancelled on request',
      });
    },
  );

  app.post(
    '/executions/:id/rerun',
    {
      config: { rateLimit: app.limits.trigger },
      schema: {
        tags,
        summary:
          'Run again the cases that did not pass (or all with ?only=all), as a new execution',
        params: IdParams,
        querystring: RerunQuery,
        headers: IdempotencyHeaders,
        response: {
          202: TriggerExecutionResponse,
          403: ApiError,
          404: ApiError,
          409: ApiError,
          422: ApiError,
          429: ApiError,
          503: ApiError,
        },
      },
    },
    async (request, reply) => {
      await access.execution(principalOf(request), request.params.id, 'tester');
      const result = await executionService.rerun(
        request.params.id,
        request.query.only,
        request.headers['idempotency-key'],
      );
      return sendAccepted(reply, result);
    },
  );
};

export default executionRoutes;
