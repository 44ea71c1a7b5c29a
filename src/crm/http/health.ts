import type { FastifyInstance } from 'fastify';
import { jobsBacklogGauge, serveHealth, storeAnswers, storeGauge } from '../../http/observability.js';
import type { CrmServices } from '../crm-services.js';
import { countUnfinishedJobs } from '../store/bulk-store.js';

/** The CRM's `/healthz`, `/readyz` (its store) and `/metrics`: API use and the Bulk backlog. */
export function crmHealth(app: FastifyInstance, services: CrmServices): void {
  serveHealth(app, { store: storeAnswers(services.database.db) });
  storeGauge(
    app.metrics,
    {
      name: 'handoff_crm_api_requests_today',
      help: 'API requests the org made today (UTC), against its daily limit (`kind`)',
      labelNames: ['kind'],
    },
    async () => {
      const { used, max } = services.usage.snapshot();
      return [
        { labels: { kind: 'used' }, value: used },
        { labels: { kind: 'limit' }, value: max },
      ];
    },
  );
  jobsBacklogGauge(app.metrics, async () =>
    (await countUnfinishedJobs(services.database.db)).map((row) => ({
      runner: `bulk-${row.jobType.toLowerCase()}`,
      state: row.state,
      count: row.count,
    })),
  );
}
