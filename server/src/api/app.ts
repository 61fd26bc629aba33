import Fastify, { type FastifyServerOptions } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { authentication } from './plugins/auth.js';
import { httpMetrics, type WebGuardMetrics } from '../metrics/index.js';
import { errorHandler } from './plugins/error-handler.js';
import { hardening, type HardeningOptions } from './plugins/hardening.js';
import { openapi } from './plugins/openapi.js';
import { webUi, type WebUiOptions } from './plugins/web-ui.js';
import healthRoutes from './routes/health.js';
import artifactRoutes from './routes/api/v1/artifacts.js';
import authRoutes from './routes/api/v1/auth.js';
import caseRoutes from './routes/api/v1/cases.js';
import environmentRoutes from './routes/api/v1/environments.js';
import executionRoutes from './routes/api/v1/executions.js';
import skillRoutes from './routes/api/v1/skills.js';
import suiteRoutes from './routes/api/v1/suites.js';
import projectRoutes from './routes/api/v1/projects.js';
import reportRoutes from './routes/api/v1/reports.js';
import quarantineRoutes from './routes/api/v1/quarantine.js';
import notificationRoutes from './routes/api/v1/notifications.js';
import userRoutes from './routes/api/v1/users.js';
import type { ApiServices } from './services.js';

export interface BuildAppOptions {
  services: ApiServices;
  /** Largest accepted request body in bytes. */
  bodyLimit: number;
  version: string;
  logger?: FastifyServerOptions['loggerInstance'];
  /** The process's metrics: requests are counted and `/metrics` serves them. */
  metrics?: WebGuardMetrics;
  /** Proxy hops whose X-Forwarded-For is believed (0: none). */
  trustProxy?: number;
  /** A request not received completely within this many ms is answered 408 (0: no limit). */
  requestTimeoutMs?: number;
  /** Bearer token /metrics requires; unset leaves /metrics open for Prometheus. */
  metricsToken?: string | undefined;
  security?: Partial<HardeningOptions>;
  /** Where the built web UI is; see `webUi`. */
  webUi?: WebUiOptions;
}

function requestDeadline(requestTimeout: number) {
  if (requestTimeout === 0) return {};
  return {
    requestTimeout,
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(requestTimeout / 4))),
  };
}

/** Builds the HTTP app without listening, so tests can drive it with `inject()`. */
export async function buildApp(options: BuildAppOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // Ids in logs tie a request to the jobs and results it caused.
    requestIdHeader: 'x-request-id',
    // The client address is the one the n-th proxy from here saw; nothing further is believed.
    trustProxy: (_address: string, hop: number) => hop < (options.trustProxy ?? 0),
    requestTimeout: options.requestTimeoutMs ?? 0,
    // Node only enforces a request deadline given when the server is created (Fastify sets it
    // later, which Node 20 ignores), and only checks it every connectionsCheckingInterval:
    // without both, a client dripping its body holds a connection open indefinitely.
    http: requestDeadline(options.requestTimeoutMs ?? 0),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('services', options.services);
  // The API speaks JSON only; a text body gets a clear 415 instead of a confusing schema error.
  app.removeContentTypeParser('text/plain');

  await app.register(errorHandler);
  // Before authentication: the UI's files are public, its data comes from the authenticated API.
  await app.register(webUi, options.webUi ?? {});
  if (options.metrics) await app.register(httpMetrics, { metrics: options.metrics });
  await app.register(authentication, { metricsToken: options.metricsToken });
  await app.register(hardening, {
    corsOrigins: [],
    loginRateLimit: 10,
    triggerRateLimit: 60,
    keyPrefix: 'webguard',
    ...options.security,
  });
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
      await api.register(authRoutes);
      await api.register(projectRoutes);
      await api.register(userRoutes);
      await api.register(reportRoutes);
      await api.register(quarantineRoutes);
      await api.register(notificationRoutes);
    },
    { prefix: '/api/v1' },
  );
  return app;
}

export type WebGuardApp = Awaited<ReturnType<typeof buildApp>>;
