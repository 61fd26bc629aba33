import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../../auth/index.js';
import { unauthorized } from '../../auth/index.js';

/**
 * Routes anyone may call. Everything else needs `Authorization: Bearer <token>`: the API is
 * authenticated by default, so a route added later is closed until listed here.
 */
const PUBLIC_ROUTES = new Set([
  '/healthz',
  '/readyz',
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  // The refresh token in the body is the credential.
  '/api/v1/auth/logout',
  // The link itself is the credential: signed and expiring.
  '/api/v1/artifacts/:id/download',
]);

const isPublic = (route: string | undefined) =>
  route !== undefined &&
  (PUBLIC_ROUTES.has(route) || route === '/docs' || route.startsWith('/docs/'));

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

const sameSecret = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set on every route that is not public. */
    principal: Principal | null;
  }
}

/** Checks the caller of every request and records who it is on `request.principal`. */
export const authentication = fp(
  async (app: FastifyInstance, options: { metricsToken: string | undefined }) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route === '/metrics') {
        // Prometheus scrapes with a static bearer when one is configured, else openly.
        const given = bearer(request);
        if (options.metricsToken && !(given && sameSecret(given, options.metricsToken))) {
          void reply.header('www-authenticate', 'Bearer realm="metrics"');
          throw unauthorized('/metrics needs the bearer token set in WEBGUARD_METRICS_TOKEN');
        }
        return;
      }
      // CORS preflights never carry credentials (browsers strip them); the CORS plugin answers.
      if (isPublic(route) || request.method === 'OPTIONS') return;
      const token = bearer(request);
      if (!token) {
        void reply.header('www-authenticate', 'Bearer realm="webguard"');
        throw unauthorized(
          'sign in first: send "Authorization: Bearer <token>" with an access token from POST /api/v1/auth/login or an API token',
        );
      }
      try {
        request.principal = await app.services.auth.authenticate(token);
      } catch (error) {
        void reply.header('www-authenticate', 'Bearer realm="webguard", error="invalid_token"');
        throw error;
      }
    });
  },
  { name: 'authentication', dependencies: ['error-handler'] },
);

/** The caller of an authenticated route; a route outside the public list always has one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('this route needs a signed-in caller');
  return request.principal;
}
