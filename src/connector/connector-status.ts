import type jsforce from 'jsforce';
import { SalesforceClient } from '../clients/salesforce/salesforce-client.js';
import type { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import { STANDARD_PROSPECT_FIELDS } from '../clients/account-engagement/prospect-fields.js';
import type { Database } from '../store/database.js';
import type { CrmObject } from './domain/field-mapping.js';
import type { ChangeEventGap } from './crm-change-stream.js';
import {
  countLinksByObject,
  countSyncErrorsByCategory,
  isPaused,
  selectApiUsage,
  selectBackfillState,
  selectChangeEventGap,
} from './store/link-store.js';
import { idleMinute, minuteOf, selectMinuteMetrics, type MinuteMetrics } from './store/metrics-store.js';
import { queueDepth, type QueueDepth } from './store/work-queue.js';

/** Whether a side answered its last probe, and how fast. */
export interface ConnectionHealth {
  ok: boolean;
  /** Why not, in the side's words. */
  message?: string;
  latencyMs?: number;
  checkedAt: string;
}

/** The sync at a glance: what the console's overview shows. */
export interface ConnectorStatus {
  paused: boolean;
  connections: { crm: ConnectionHealth; marketing: ConnectionHealth };
  /** Linked pairs by CRM object. */
  linked: Record<CrmObject, number> & { total: number };
  queue: QueueDepth & { total: number };
  /** How long the oldest waiting change has waited (0 with an empty queue). */
  lagSeconds: number;
  lastPass: { at: string; ok: boolean; message?: string } | null;
  /** Open and retrying sync errors by category. */
  errors: Record<string, number>;
  /** The CRM org's daily API requests, and the connector's share of them. */
  crmApi: { used: number; limit: number; share: number } | null;
  /** Calls the connector made to the marketing API today (UTC). */
  marketingCallsToday: number;
  /**
   * Each side's API use today against its limit: the org's (CRM) or the connector's own calls
   * (marketing, which tells no usage), the connector's share, and the day's forecast at this rate.
   */
  budgets: {
    crm: ApiBudget | null;
    marketing: ApiBudget;
  };
  /** How often each side is polled now (longer while idle; a safety net beside push). */
  polling: Record<
    'crm' | 'marketing',
    { intervalMs: number; quietPolls: number; callsPerPoll: number; lastPollAt: string | null }
  > | null;
  changeEvents: boolean;
  /** The last time change events were lost and the window was reconciled by query, if ever. */
  changeEventGap: ChangeEventGap | null;
  /**
   * Records made before the connector's first start sync only through a backfill: whether one
   * is still needed, and when the last one finished.
   */
  backfill: { needed: boolean; doneAt: string | null };
}

export interface ApiBudget {
  used: number;
  limit: number;
  /** The share (0–1) of the limit the connector may reach before it waits. */
  share: number;
  /** The calls today's rate comes to by midnight UTC. */
  forecast: number;
  /** The connector's own calls today, all processes. */
  byConnector: number;
}

/** Today's use run on at its rate to midnight UTC. */
export function forecastDay(used: number, now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const elapsed = Math.max(60_000, now.getTime() - midnight);
  return Math.round((used * 86_400_000) / elapsed);
}

/** How long a probe's answer stands: a console left open costs a call a minute a side, no more. */
const PROBE_TTL_MS = 60_000;

/** Probes each side now and then (a cheap read each) and remembers the answer. */
export class ConnectionProbe {
  private cached: { at: number; crm: ConnectionHealth; marketing: ConnectionHealth } | null = null;
  private limits: { used: number; limit: number } | null = null;

  constructor(
    private readonly crm: jsforce.Connection,
    private readonly marketing: AccountEngagementClient,
    private readonly now: () => Date,
  ) {}

  async health(): Promise<{
    crm: ConnectionHealth;
    marketing: ConnectionHealth;
    limits: ConnectionProbe['limits'];
  }> {
    const at = this.now().getTime();
    if (!this.cached || at - this.cached.at >= PROBE_TTL_MS) {
      const [crm, marketing] = await Promise.all([
        this.probe(async () => {
          this.limits = await new SalesforceClient(this.crm).apiUsage({ fresh: true });
        }),
        this.probe(() => this.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS)),
      ]);
      this.cached = { at, crm, marketing };
    }
    return { crm: this.cached.crm, marketing: this.cached.marketing, limits: this.limits };
  }

  private async probe(call: () => Promise<unknown>): Promise<ConnectionHealth> {
    const started = Date.now();
    const checkedAt = this.now().toISOString();
    try {
      await call();
      return { ok: true, latencyMs: Date.now() - started, checkedAt };
    } catch (error) {
      return { ok: false, message: (error as Error).message, checkedAt };
    }
  }
}

export async function readStatus(options: {
  database: Database;
  unitId: string;
  probe: ConnectionProbe;
  crmApiShare: number;
  marketingApi: { dailyLimit: number; share: number };
  polling: ConnectorStatus['polling'];
  lastPass: ConnectorStatus['lastPass'];
  changeEvents: boolean;
  now: Date;
}): Promise<ConnectorStatus> {
  const { database, unitId, now } = options;
  const [health, linked, queue, errors, usage, paused, today, backfill, changeEventGap] = await Promise.all([
    options.probe.health(),
    countLinksByObject(database.db, unitId),
    queueDepth(database, unitId),
    countSyncErrorsByCategory(database.db, unitId),
    selectApiUsage(database.db, unitId),
    isPaused(database.db, unitId),
    selectMinuteMetrics(database.db, unitId, `${now.toISOString().slice(0, 10)}T00:00`),
    selectBackfillState(database.db, unitId),
    selectChangeEventGap<ChangeEventGap>(database.db, unitId),
  ]);
  // The probe's /limits is fresher than the usage a pass last saw, when there is one.
  const crmApi = health.limits
    ? { ...health.limits, share: options.crmApiShare }
    : usage
      ? { used: usage.used, limit: usage.limit, share: usage.share }
      : null;
  const total = Object.values(queue.byPriority).reduce((a, b) => a + b, 0);
  const marketingCallsToday = today.reduce((sum, m) => sum + m.marketingCalls, 0);
  return {
    paused,
    connections: { crm: health.crm, marketing: health.marketing },
    linked: { ...linked, total: linked.Lead + linked.Contact },
    queue: { ...queue, total },
    lagSeconds: queue.oldest ? Math.max(0, (now.getTime() - Date.parse(queue.oldest)) / 1000) : 0,
    lastPass: options.lastPass,
    errors,
    crmApi,
    marketingCallsToday,
    budgets: {
      crm: crmApi
        ? {
            ...crmApi,
            forecast: forecastDay(crmApi.used, now),
            byConnector: today.reduce((sum, m) => sum + m.crmCalls, 0),
          }
        : null,
      marketing: {
        used: marketingCallsToday,
        limit: options.marketingApi.dailyLimit,
        share: options.marketingApi.share,
        forecast: forecastDay(marketingCallsToday, now),
        byConnector: marketingCallsToday,
      },
    },
    polling: options.polling,
    changeEvents: options.changeEvents,
    changeEventGap,
    backfill,
  };
}

/** The last `minutes` minutes of metrics, every minute present (idle ones as zeros). */
export async function readMetrics(
  database: Database,
  unitId: string,
  minutes: number,
  now: Date,
): Promise<MinuteMetrics[]> {
  const first = new Date(now.getTime() - (minutes - 1) * 60_000);
  const rows = new Map(
    (await selectMinuteMetrics(database.db, unitId, minuteOf(first))).map((m) => [m.minute, m]),
  );
  const series: MinuteMetrics[] = [];
  for (let i = 0; i < minutes; i++) {
    const minute = minuteOf(new Date(first.getTime() + i * 60_000));
    series.push(rows.get(minute) ?? idleMinute(minute));
  }
  return series;
}
