import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { WebGuardMetrics } from './webguard-metrics.js';

/** Requests that matched no route share one label, so scanners cannot grow the series. */
const UNMATCHED = 'unmatched';

/**
 * Counts and times every request by its route pattern (`/api/v1/executions/:id`, never the raw
 * URL), and serves the process's metrics at `GET /metrics` for Prometheus.
 */
export const httpMetrics = fp(
  async (app: FastifyInstance, { metrics }: { metrics: WebGuardMetrics }) => {
    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED,
        status_code: String(reply.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.contentType).send(text);
    });
  },
  { name: 'http-metrics' },
);
