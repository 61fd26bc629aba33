import Fastify, { type FastifyServerOptions } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { errorHandler } from './plugins/error-handler.js';
import { openapi } from './plugins/openapi.js';
import healthRoutes from './routes/health.js';
import artifactRoutes from './routes/api/v1/artifacts.js';
import caseRoutes from './routes/api/v1/cases.js';
import environmentRoutes from './routes/api/v1/environments.js';
import executionRoutes from './routes/api/v1/executions.js';
import skillRoutes from './routes/api/v1/skills.js';
import suiteRoutes from './routes/api/v1/suites.js';
import type { ApiServices } from './services.js';

export interface BuildAppOptions {
  services: ApiServices;
  /** Largest accepted request body in bytes. */
  bodyLimit: number;
  version: string;
  logger?: FastifyServerOptions['loggerInstance'];
}

/** Builds the HTTP app without listening, so tests can drive it with `inject()`. */
export async function buildApp(options: BuildAppOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // Ids in logs tie a request to the jobs and results it caused.
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('services', options.services);
  // The API speaks JSON only; a text body gets a clear 415 instead of a confusing schema error.
  app.removeContentTypeParser('text/plain');

  await app.register(errorHandler);
  await app.register(openapi, { version: options.version });
  await app.register(healthRoutes);
  await app.register(
    async (api) => {
      await api.register(suiteRoutes);
      await api.register(caseRoutes);
      await api.register(executionRoutes);
      await api.register(environmentRoutes);
      await api.register(skillRoutes);
      await api.register(artifactRoutes);
    },
    { prefix: '/api/v1' },
  );
  return app;
}

export type WebGuardApp = Awaited<ReturnType<typeof buildApp>>;
