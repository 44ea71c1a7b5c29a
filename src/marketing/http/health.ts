import type { FastifyInstance } from 'fastify';
import {
  jobsBacklogGauge,
  serveHealth,
  storeAnswers,
  storeGauge,
  type ReadinessCheck,
} from '../../http/observability.js';
import type { MarketingServices } from '../marketing-services.js';
import { countUnfinishedJobs } from '../store/job-backlog-store.js';

/**
 * The engine's `/healthz`, `/readyz` (its store, and the CRM whose tokens it trusts when that
 * CRM runs apart) and `/metrics`: the import and export backlog.
 */
export function marketingHealth(app: FastifyInstance, services: MarketingServices): void {
  const checks: Record<string, ReadinessCheck> = { store: storeAnswers(services.database.db) };
  const crm = services.tokens.reachable?.bind(services.tokens);
  if (crm) checks.crm = crm;
  serveHealth(app, checks);
  storeGauge(
    app.metrics,
    {
      name: 'handoff_marketing_api_requests_today',
      help: 'API requests a business unit made today (UTC) counted by this process (`kind="used"`), against its daily limit (`kind="limit"`)',
      labelNames: ['unit', 'kind'],
    },
    async () =>
      services.units.list().flatMap((unit) => {
        const usage = services.units.usage(unit.id);
        return [
          { labels: { unit: unit.id, kind: 'used' }, value: usage?.used ?? 0 },
          { labels: { unit: unit.id, kind: 'limit' }, value: unit.dailyApiLimit },
        ];
      }),
  );
  jobsBacklogGauge(app.metrics, async () =>
    (await countUnfinishedJobs(services.database.db)).map((row) => ({
      runner: row.kind,
      state: row.status,
      count: row.count,
    })),
  );
}
