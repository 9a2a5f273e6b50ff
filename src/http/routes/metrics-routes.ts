import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../observability/metrics.ts';
import { metricsDocs } from '../openapi/system-docs.ts';

export interface MetricsRoutesOptions {
  metrics: Metrics;
}

/**
 * Times every HTTP request by route. Call it on the root app before the routes are registered, so
 * that every route's context inherits the hook.
 */
export function recordRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.observe(
      {
        method: request.method,
        // The route pattern, not the URL, so that names in paths do not make new series.
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

/** GET /metrics in Prometheus's text format. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['system'], docs: metricsDocs } },
    async (_request, reply) => {
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
};
