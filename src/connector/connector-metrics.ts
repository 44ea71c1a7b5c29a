import type { Registry } from 'prom-client';
import {
  reachable,
  sharedRead,
  storeAnswers,
  storeGauge,
  type ReadinessCheck,
} from '../http/observability.js';
import type { Database } from '../store/database.js';
import type { ConnectorConfig } from './connector-services.js';
import { countLinksByObject, countSyncErrorsByCategory, selectApiUsage } from './store/link-store.js';
import { selectMinuteMetrics } from './store/metrics-store.js';
import { queueDepth } from './store/work-queue.js';

/**
 * The sync's gauges, read from the store when scraped and never from either side's API (a
 * scrape every 15 s must not spend the org's allowance): queue depth by priority, lag, linked
 * pairs, open errors by category, and each side's API use today against what is known of its
 * limit. Every process sharing the store reports the same figures.
 */
export function connectorGauges(
  registry: Registry,
  options: { database: Database; unitId: string; now: () => Date },
): void {
  const { database, unitId, now } = options;
  const db = database.db;
  // Depth, retries and lag are three gauges of one query.
  const queue = sharedRead(() => queueDepth(database, unitId));
  storeGauge(
    registry,
    {
      name: 'handoff_connector_queue_depth',
      help: 'Changes waiting to sync, by priority (0 is the most urgent: form submissions)',
      labelNames: ['priority'],
    },
    async () =>
      Object.entries((await queue()).byPriority).map(([priority, n]) => ({
        labels: { priority },
        value: n,
      })),
  );
  storeGauge(
    registry,
    { name: 'handoff_connector_retrying', help: 'Queued changes being retried after a failure' },
    async () => [{ value: (await queue()).retrying }],
  );
  storeGauge(
    registry,
    { name: 'handoff_connector_lag_seconds', help: 'How long the oldest waiting change has waited' },
    async () => {
      const { oldest } = await queue();
      return [{ value: oldest ? Math.max(0, (now().getTime() - Date.parse(oldest)) / 1000) : 0 }];
    },
  );
  storeGauge(
    registry,
    {
      name: 'handoff_connector_linked_pairs',
      help: 'Prospects linked to a CRM record, by CRM object',
      labelNames: ['object'],
    },
    async () =>
      Object.entries(await countLinksByObject(db, unitId)).map(([object, n]) => ({
        labels: { object },
        value: n,
      })),
  );
  storeGauge(
    registry,
    {
      name: 'handoff_connector_sync_errors',
      help: 'Open and retrying sync errors, by category',
      labelNames: ['category'],
    },
    async () =>
      Object.entries(await countSyncErrorsByCategory(db, unitId)).map(([category, n]) => ({
        labels: { category },
        value: n,
      })),
  );
  storeGauge(
    registry,
    {
      name: 'handoff_connector_api_calls_today',
      help: 'API calls today (UTC) by side: the org’s use and limit as last seen (crm), the connector’s own calls (marketing)',
      labelNames: ['side', 'kind'],
    },
    async () => {
      const [usage, minutes] = await Promise.all([
        selectApiUsage(db, unitId),
        selectMinuteMetrics(db, unitId, `${now().toISOString().slice(0, 10)}T00:00`),
      ]);
      const values = [
        {
          labels: { side: 'marketing', kind: 'connector' },
          value: minutes.reduce((sum, m) => sum + m.marketingCalls, 0),
        },
      ];
      if (usage)
        values.push(
          { labels: { side: 'crm', kind: 'used' }, value: usage.used },
          { labels: { side: 'crm', kind: 'limit' }, value: usage.limit },
          {
            labels: { side: 'crm', kind: 'connector_share_limit' },
            value: Math.floor(usage.limit * usage.share),
          },
        );
      return values;
    },
  );
}

/** What a connector needs to be ready: its store, and both sides answering. */
export function connectorReadiness(
  database: Database,
  config: ConnectorConfig,
): Record<string, ReadinessCheck> {
  return {
    store: storeAnswers(database.db),
    crm: reachable(`${config.crm.loginUrl.replace(/\/$/, '')}/services/oauth2/userinfo`),
    marketing: reachable(`${config.marketing.baseUrl.replace(/\/$/, '')}/api/v5/objects/prospects`),
  };
}
