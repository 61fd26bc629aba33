import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateSuiteBody,
  IdParams,
  ListSuitesQuery,
  Page,
  Suite,
  SuiteSchedule,
  UpdateSuiteBody,
} from '@webguard/shared';
import { visibleProjects } from '../../../../auth/index.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['suites'];

const suiteRoutes: FastifyPluginAsyncZod = async (app) => {
  const { suites, schedules, access, artifacts } = app.services;

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
    async (request) => suites.list(request.query, visibleProjects(principalOf(request))),
  );

  app.post(
    '/suites',
    {
      schema: {
        tags,
        summary: 'Create a suite',
        description:
          'A `schedule_cron` starts runs on its schedule (in `schedule_timezone`, default UTC).',
        body: CreateSuiteBody,
        response: { 201: Suite, 400: ApiError, 409: ApiError },
      },
    },
    async (request, reply) => {
      const projectId = access.targetProject(
        principalOf(request),
        request.body.project_id,
        'tester',
      );
      schedules.validate(request.body.schedule_cron, request.body.schedule_timezone);
      const suite = await suites.create({ ...request.body, project_id: projectId });
      await schedules.sync(suite);
      return reply.code(201).send(suite);
    },
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
    async (request) => {
      await access.suite(principalOf(request), request.params.id, 'viewer');
      return suites.get(request.params.id);
    },
  );

  app.get(
    '/suites/:id/schedule',
    {
      schema: {
        tags,
        summary: "The suite's schedule and its next five run times",
        params: IdParams,
        response: { 200: SuiteSchedule, 404: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.id, 'viewer');
      return schedules.describe(await suites.get(request.params.id));
    },
  );

  app.patch(
    '/suites/:id',
    {
      schema: {
        tags,
        summary: 'Change some fields of a suite',
        params: IdParams,
        body: UpdateSuiteBody,
        response: { 200: Suite, 400: ApiError, 404: ApiError, 409: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.id, 'tester');
      const current = await suites.get(request.params.id);
      schedules.validate(
        request.body.schedule_cron === undefined
          ? current.schedule_cron
          : request.body.schedule_cron,
        request.body.schedule_timezone === undefined
          ? current.schedule_timezone
          : request.body.schedule_timezone,
      );
      const suite = await suites.update(request.params.id, request.body);
      await schedules.sync(suite);
      return suite;
    },
  );

  app.delete(
    '/suites/:id',
    {
      schema: {
        tags,
        summary: 'Delete a suite with its cases, schedule and run history',
        params: IdParams,
        response: { 204: z.null(), 403: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      // Deleting a suite deletes its run history too: the project's administrators decide that.
      await access.suite(principalOf(request), request.params.id, 'admin');
      await suites.delete(request.params.id);
      await schedules.remove(request.params.id);
      // The cascade queued the files of its runs' artifacts; they go now, not at the next hour.
      await artifacts.purgeDeletedFiles(request.log);
      return reply.code(204).send(null);
    },
  );
};

export default suiteRoutes;
