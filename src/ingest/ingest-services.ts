import pino, { type Logger } from 'pino';
import { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import { TrackerClient } from '../clients/account-engagement/tracker-client.js';
import { SalesforceTokenSource, type SalesforceLogin } from '../clients/salesforce-oauth.js';
import type { Database } from '../store/database.js';
import { migrateArea } from '../store/migrations.js';
import { DeliveryWorker } from './delivery-worker.js';
import { EventLog } from './event-log.js';
import { SourceService } from './source-service.js';
import { ingestMigrations } from './store/migrations.js';
import * as store from './store/ingest-store.js';

/** Where the prospect destination delivers: a marketing engine (or a real business unit). */
export interface MarketingTarget {
  baseUrl: string;
  /** The unit a source without its own `businessUnitId` delivers to. */
  businessUnitId: string;
  login: SalesforceLogin;
}

export interface IngestServices {
  database: Database;
  sources: SourceService;
  events: EventLog;
  delivery: DeliveryWorker;
  now: () => Date;
  /** Events a second, per source; over it the API answers 429. 0: no limit. */
  rateLimit: number;
  /** The host (and port) of the marketing engine: where browsers find its tracker by default. */
  trackerHost: string;
  /** The marketing engine deliveries go to (its readiness is the ingest's). */
  marketingUrl: string;
  /** Events by delivery status. */
  status(): Promise<Record<store.EventStatus, number>>;
  failures(options?: { sourceId?: string; limit?: number }): Promise<store.StoredEvent[]>;
  /** The newest events, whatever their status. */
  recent(limit: number): Promise<store.StoredEvent[]>;
  event(sourceId: string, messageId: string): Promise<store.StoredEvent | undefined>;
  retryFailed(seqs: number[] | 'all'): Promise<number>;
  close(): Promise<void>;
}

export interface OpenIngestOptions {
  database: Database;
  marketing: MarketingTarget;
  now?: () => Date;
  rateLimit?: number;
  /** Whether this process delivers (it still takes part in the lease with other processes). */
  deliver?: boolean;
  log?: Logger;
  fetchImpl?: typeof fetch;
}

export async function openIngest(options: OpenIngestOptions): Promise<IngestServices> {
  const now = options.now ?? (() => new Date());
  const { database } = options;
  const log = options.log ?? pino({ level: process.env.HANDOFF_LOG_LEVEL ?? 'warn' });
  await migrateArea(database, 'ingest', ingestMigrations);
  const sources = new SourceService(database, now);
  const tokens = new SalesforceTokenSource(options.marketing.login, options.fetchImpl);
  const clients = new Map<string, AccountEngagementClient>();
  const clientFor = (unitId: string | null) => {
    const id = unitId ?? options.marketing.businessUnitId;
    let client = clients.get(id);
    if (!client) {
      client = new AccountEngagementClient({
        baseUrl: options.marketing.baseUrl,
        businessUnitId: id,
        tokens,
        actor: 'api',
      });
      clients.set(id, client);
    }
    return client;
  };
  const tracker = new TrackerClient(options.marketing.baseUrl);
  const delivery = new DeliveryWorker({ database, sources, clientFor, tracker, now, log });
  const events = new EventLog(database, () => delivery.kick());
  if (options.deliver !== false) delivery.start();
  return {
    database,
    marketingUrl: options.marketing.baseUrl,
    sources,
    events,
    delivery,
    now,
    rateLimit: options.rateLimit ?? 0,
    trackerHost: new URL(options.marketing.baseUrl).host,
    status: () => store.countByStatus(database.db),
    recent: (limit) => store.selectRecent(database.db, limit),
    failures: (o = {}) =>
      store.selectByStatus(database.db, 'failed', { sourceId: o.sourceId, limit: o.limit ?? 100 }),
    event: (sourceId, messageId) => store.selectEvent(database.db, sourceId, messageId),
    async retryFailed(seqs) {
      const n = await store.retryFailed(database.db, seqs, now().toISOString());
      delivery.kick();
      return n;
    },
    async close() {
      await events.close();
      await delivery.close();
    },
  };
}
