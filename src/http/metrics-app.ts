import Fastify, { type FastifyInstance } from 'fastify';
import { serveHealth, type ReadinessCheck } from './observability.js';
import { requestBasics, serverOptions } from './server-basics.js';

/**
 * A server with only `/healthz`, `/readyz` and `/metrics`, for a worker that answers no other
 * HTTP (`handoff sync --metrics-port`): its gauges are added to `app.metrics` by the caller.
 */
export function buildMetricsApp(server: string, checks: Record<string, ReadinessCheck>): FastifyInstance {
  const app = Fastify(
    serverOptions(server, (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify({ error: message, status }),
    })),
  );
  requestBasics(app, server);
  serveHealth(app, checks);
  return app;
}
