import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HealthResponse, ReadinessResponse } from '@webguard/shared';

/** Liveness (the process answers) and readiness (its database and Redis answer too). */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], response: { 200: HealthResponse } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: ReadinessResponse, 503: ReadinessResponse } } },
    async (_request, reply) => {
      const readiness = await app.services.readiness();
      return reply.code(readiness.status === 'ok' ? 200 : 503).send(readiness);
    },
  );
};

export default healthRoutes;
