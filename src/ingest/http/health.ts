import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { reachable, serveHealth, storeAnswers, storeGauge } from '../../http/observability.js';
import type { IngestServices } from '../ingest-services.js';

/**
 * The ingest's `/healthz`, `/readyz` (its store and the marketing engine it delivers to) and
 * `/metrics`: events by delivery status. Answers the counter the accept path adds to.
 */
export function ingestHealth(app: FastifyInstance, services: IngestServices): Counter {
  serveHealth(app, {
    store: storeAnswers(services.database.db),
    marketing: reachable(services.marketingUrl),
  });
  storeGauge(
    app.metrics,
    {
      name: 'handoff_ingest_events',
      help: 'Events in the log by delivery status (pending, waiting = retrying, delivered, skipped, failed)',
      labelNames: ['status'],
    },
    async () =>
      Object.entries(await services.status()).map(([status, count]) => ({
        labels: { status },
        value: count,
      })),
  );
  return new Counter({
    name: 'handoff_ingest_events_accepted_total',
    help: 'Events this process accepted into the log (answered 200)',
    registers: [app.metrics],
  });
}
