import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateQuarantineBody,
  IdParams,
  Quarantine,
  QuarantineParams,
} from '@webguard/shared';
import { AppError } from '../../../../errors.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['quarantine'];
const MAX_QUARANTINE_MS = 90 * 86_400_000;

/** Flaky-test management: a quarantined case runs and is reported but fails nothing. */
const quarantineRoutes: FastifyPluginAsyncZod = async (app) => {
  const { access, quarantines } = app.services;

  app.get(
    '/suites/:id/quarantine',
    {
      schema: {
        tags,
        summary: 'Cases of the suite in quarantine now (?all=true: also expired and lifted ones)',
        params: IdParams,
        querystring: z.object({ all: z.stringbool().default(false) }),
        response: { 200: z.object({ items: z.array(Quarantine) }), 404: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.id, 'viewer');
      return { items: await quarantines.list(request.params.id, request.query.all) };
    },
  );

  app.post(
    '/suites/:id/quarantine',
    {
      schema: {
        tags,
        summary:
          'Quarantine a case until a time: it still runs and is reported, but does not fail the run or the gate',
        params: IdParams,
        body: CreateQuarantineBody,
        response: { 201: Quarantine, 400: ApiError, 403: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await access.suite(principal, request.params.id, 'tester');
      const until = Date.parse(request.body.until);
      if (until <= Date.now() || until > Date.now() + MAX_QUARANTINE_MS)
        throw new AppError(
          400,
          'VALIDATION_FAILED',
          'until must be in the future and at most 90 days ahead',
          [{ path: 'until', message: 'must be within the next 90 days' }],
        );
      return reply
        .code(201)
        .send(await quarantines.create(request.params.id, request.body, principal.name));
    },
  );

  app.delete(
    '/suites/:id/quarantine/:quarantineId',
    {
      schema: {
        tags,
        summary: 'Lift a quarantine before it expires',
        params: QuarantineParams,
        response: { 200: Quarantine, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.id, 'tester');
      return quarantines.lift(request.params.id, request.params.quarantineId);
    },
  );
};

export default quarantineRoutes;
