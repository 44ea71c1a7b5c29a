// Over 400 lines on purpose: the connector's public interface (openConnector) wires the engine, the pass scheduler, change events, webhooks, the first start and status in one place; each part is its own module.
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../http/observability.js';
import { RepeatedLog } from '../log.js';
import { connectorGauges, connectorReadiness } from './connector-metrics.js';
import { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import { connectCrm, crmCallsSent } from '../clients/salesforce/crm-connection.js';
import { SalesforceTokenSource, type SalesforceLogin } from '../clients/salesforce-oauth.js';
import type { Database } from '../store/database.js';
import { migrateArea } from '../store/migrations.js';
import { DEFAULT_MAPPINGS, type CrmObject, type FieldMapping } from './domain/field-mapping.js';
import {
  forgetBackfill,
  markForRetry,
  isFirstStart,
  markFirstStart,
  selectBackfillState,
  saveChangeEventGap,
  saveSettings,
  selectSavedSettings,
  selectLinkByCrmId,
  selectLinkByProspect,
  type Link,
  selectSyncErrors,
  setPaused,
  skipSyncErrors,
  type SyncError,
} from './store/link-store.js';
import { connectorMigrations } from './store/migrations.js';
import { addMinuteMetrics, minuteOf, type MinuteMetrics } from './store/metrics-store.js';
import { ConnectionProbe, readMetrics, readStatus, type ConnectorStatus } from './connector-status.js';
import { syncSettingsSchema, type SyncSettings } from './connector-config.js';
import { selectRecordLog, type StoredSyncLogEntry } from './store/sync-log.js';
import { backfill, type BackfillProgress, type BackfillResult } from './backfill.js';
import { verifyEstimate, type VerifyResult } from './verify/verify-pairs.js';
import type { RepairResult } from './verify/verify-repair.js';
import { verifyAndRecord, VerifySchedule, type RepairScope } from './verify/verify-run.js';
import {
  selectVerifyRun,
  selectVerifyRuns,
  type VerifyRun,
  type VerifyRunSummary,
} from './store/verify-store.js';
import { applySettingsPreview, previewSettings, type SettingsPreview } from './verify/settings-preview.js';
import { activitySettingsSchema, type ActivitySettings } from './domain/activity-task.js';
import { CrmChangeStream } from './crm-change-stream.js';
import { MarketingWebhookReceiver, type WebhookAnswer } from './marketing-webhooks.js';
import { SyncEngine } from './sync-engine.js';
import { PassScheduler } from './pass-scheduler.js';
import { marketingLimits } from './work/marketing-budget.js';
import type { PassResult, SyncRules } from './sync-types.js';

export interface ConnectorConfig {
  crm: SalesforceLogin;
  marketing: { baseUrl: string; businessUnitId: string; login: SalesforceLogin };
  mappings?: Partial<Record<CrmObject, FieldMapping[]>>;
  rules?: Partial<SyncRules>;
  /** How long a process holds leased work before another may take it over (default 30 s). */
  leaseMs?: number;
  /** The share of the CRM org's daily API requests the connector may reach (default 0.8). */
  crmApiShare?: number;
  /** Which activities become CRM Tasks (`connector.activities`). */
  activities?: Partial<ActivitySettings>;
  /** Subscribe to the CRM's change events while running (default on; polling goes on beside). */
  changeEvents?: boolean;
  /** The secret the marketing engine signs its webhooks with; none: webhooks are refused. */
  webhookSecret?: string;
  /** Changes arriving within this window go out as one batch (default 250 ms). */
  coalesceMs?: number;
  /**
   * With the CRM's change events subscribed, the CRM is also polled this often, as the safety
   * net (default 15 s); without them, every pass polls.
   */
  safetyPollMs?: number;
  /**
   * On the connector's first start for a unit (nothing captured, nothing linked), link what both
   * sides already hold with a backfill before the first pass (the demo). Off, the first start
   * says that a backfill is needed: records made before it are synced only by one.
   */
  backfillOnFirstStart?: boolean;
  /**
   * Without change events or webhooks, the longest an idle side waits between polls (default
   * 60 s): how long a change may take to cross when nothing has changed for a while. Idle
   * polling never spends more than 5 % of a side's daily limit, so on a small allowance a
   * change may wait longer.
   */
  idlePollBoundMs?: number;
  /** The business unit's daily API limit and the connector's share of it (defaults 25,000 and 20 %). */
  marketingApi?: { dailyLimit?: number; share?: number };
  /** While running, verify every pair this often (and repair what it finds, if asked). */
  verify?: { everyHours: number; repair?: boolean };
}

/** How long an idle side waits at most between polls, without change events or webhooks. */
const DEFAULT_IDLE_POLL_BOUND_MS = 60_000;
/** With change events or webhooks, each side is still polled this often (the safety net). */
const DEFAULT_SAFETY_POLL_MS = 300_000;
/** The most of a side's daily limit idle polling may spend. */
const IDLE_SHARE = 0.05;
/** A CRM org's daily limit before the first answer tells it (a Developer Edition's). */
const SMALLEST_CRM_DAILY_LIMIT = 15_000;

/** The types the connector's users (the CLI, the console) read, owned by its public interface. */
export type {
  MinuteMetrics,
  RepairResult,
  SettingsPreview,
  StoredSyncLogEntry,
  SyncError,
  VerifyResult,
  VerifyRun,
  VerifyRunSummary,
};

export interface Connector {
  engine: SyncEngine;
  /** The sync-error list: writes refused for good (open) or waiting for a retry. */
  errors(states?: Array<SyncError['state']>, limit?: number): Promise<SyncError[]>;
  /** Tries open errors again on the next pass (all, or the given ids); how many were marked. */
  retry(ids: number[] | 'all'): Promise<number>;
  /** The linked pair of a record named by its CRM id or prospect id, if it has one. */
  linkOf(recordId: string): Promise<Link | null>;
  /** Gives up on open errors (all, or by id): how many were skipped. */
  skip(ids: number[] | 'all'): Promise<number>;
  /** The sync at a glance: connections, linked records, queue, lag, errors, API budgets. */
  status(): Promise<ConnectorStatus>;
  /** What the sync did a minute, over the last `minutes` minutes (oldest first). */
  metrics(minutes: number): Promise<MinuteMetrics[]>;
  /** The mappings and rules in force (as configured or as last saved). */
  settings(): SyncSettings;
  /**
   * Checks new mappings and rules against both sides' fields; when they pass, saves them and
   * syncs by them from the next pass on. Returns what is wrong, each with where (the mapping's
   * row, `mappings.Lead.3`), and then nothing is saved.
   */
  saveSettings(settings: SyncSettings): Promise<Array<{ path: string; message: string }>>;
  /**
   * What saving these mappings and rules would write to the linked pairs, computed from both
   * sides read in bulk without writing anything (verify/settings-preview.ts).
   */
  previewSettings(settings: SyncSettings): Promise<SettingsPreview>;
  /** The fields each side has, for mapping. */
  fieldCatalog(): Promise<{ crm: Record<CrmObject, string[]>; prospect: string[] }>;
  /** Stops (or resumes) syncing: passes do nothing while paused, and miss nothing. */
  pause(paused: boolean): Promise<void>;
  /** One full pass over both sides. */
  runOnce(): Promise<PassResult>;
  /**
   * The field-level sync log of a record (a CRM id or a prospect id), oldest first: what the
   * sync wrote to which side, which rule or policy decided, and the call that carried it.
   */
  syncLog(recordId: string): Promise<StoredSyncLogEntry[]>;
  /**
   * The initial sync of what both sides already hold (resumable: it goes on where a stopped
   * one left off); `restart` forgets an earlier backfill's progress and goes through it all.
   */
  backfill(options?: {
    onProgress?: (progress: BackfillProgress) => void;
    restart?: boolean;
    chunkSize?: number;
  }): Promise<BackfillResult>;
  /** What a verify will cost on each side, before it runs (no API call). */
  verifyEstimate(): Promise<{ crm: number; marketing: number }>;
  /**
   * Compares every linked pair on every mapped field, both sides read in bulk, and classifies
   * each difference; with `repair`, settles drift, conflicts, orphans and duplicates through the
   * sync's queue (verify/verify-repair.ts).
   */
  verify(options?: { repair?: RepairScope }): Promise<VerifyResult & { repair?: RepairResult }>;
  /** The latest verifies, newest first, with their counts (the console's trend). */
  verifyRuns(limit?: number): Promise<VerifyRunSummary[]>;
  /** One verify with its first 10,000 differences. */
  verifyRun(id: number): Promise<VerifyRun | undefined>;
  /**
   * Passes every `intervalMs` until stopped, and soon after a change event or webhook (within
   * the coalescing window), with the CRM's change events subscribed.
   */
  start(intervalMs: number): void;
  /** Runs a pass soon (after the coalescing window): something was queued. */
  kick(): void;
  /** Once started: whether the CRM's change events are subscribed (false: polling only). */
  changeEventsReady(): Promise<boolean>;
  /** Where the marketing engine's webhooks are taken (POST body and its signature header). */
  receiveWebhook(body: string, signature: string | undefined): Promise<WebhookAnswer>;
  /** Adds the sync's gauges (queue, lag, errors, API use: read from the store) to a server's registry. */
  registerMetrics(registry: Registry): void;
  /** What `/readyz` of a server running this connector checks: its store and both sides. */
  readiness(): Record<string, ReadinessCheck>;
  stop(): Promise<void>;
}

/**
 * The mappings and rules a configuration gives (its mappings over the defaults): in force until
 * settings are saved from the console, and what `handoff sync preview` shows.
 */
export function configuredSettings(config: Pick<ConnectorConfig, 'mappings' | 'rules'>): {
  mappings: Record<CrmObject, FieldMapping[]>;
  rules: SyncRules;
} {
  return {
    mappings: { ...DEFAULT_MAPPINGS, ...config.mappings },
    rules: { createProspects: true, createLeads: 'assigned', ...config.rules },
  };
}

/** The connector's Account Engagement client: its writes show in history as the sync's. */
export function connectMarketing(config: ConnectorConfig, options: { maxAttempts?: number } = {}) {
  return new AccountEngagementClient({
    baseUrl: config.marketing.baseUrl,
    businessUnitId: config.marketing.businessUnitId,
    tokens: new SalesforceTokenSource(config.marketing.login),
    actor: 'sync',
    ...options,
  });
}

/**
 * The connector between one CRM org and one business unit, over their wire APIs only. It
 * logs in to both sides with the configured OAuth flow, checks the mappings, and runs passes.
 */
export async function openConnector(options: {
  database: Database;
  config: ConnectorConfig;
  now?: () => Date;
  log?: Logger;
  /** The first retry's delay and the longest (tests shorten them). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}): Promise<Connector> {
  const { database, config } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? pino({ level: process.env.HANDOFF_LOG_LEVEL ?? 'warn' });
  // A refused record or a side that is down fails every pass: once a minute in the log, counted.
  const repeated = new RepeatedLog(log);
  await migrateArea(database, 'connector', connectorMigrations);
  const crm = await connectCrm(config.crm);
  const marketing = connectMarketing(config);
  const unitId = config.marketing.businessUnitId;
  // Settings saved from the console stand over the configuration's.
  const saved = await selectSavedSettings(database.db, unitId);
  const savedSettings = saved ? syncSettingsSchema.parse(JSON.parse(saved)) : null;
  const engine = await SyncEngine.open({
    database,
    crm,
    marketing,
    unitId,
    ...(savedSettings ?? configuredSettings(config)),
    now,
    log,
    retryBaseMs: options.retryBaseMs,
    retryMaxMs: options.retryMaxMs,
    leaseMs: config.leaseMs,
    crmApiShare: config.crmApiShare,
    activities: config.activities,
    marketingApi: config.marketingApi,
    prospectUrl: (id) => `${config.marketing.baseUrl.replace(/\/$/, '')}/prospect/read?id=${id}`,
  });

  /** What the backfill, the verify and the preview work with. */
  const parts = { database, crm, marketing, unitId, engine, now };
  let streaming = false;
  let started = false;
  const verifySchedule = config.verify
    ? new VerifySchedule({
        ...parts,
        log,
        everyMs: config.verify.everyHours * 3_600_000,
        repair: config.verify.repair ?? false,
      })
    : null;
  const marketingApi = marketingLimits(config.marketingApi);
  const scheduler = new PassScheduler({
    coalesceMs: config.coalesceMs ?? 250,
    now,
    pushed: (side) => (side === 'crm' ? streaming : receiver !== null),
    settings: (side, intervalMs) => ({
      fastMs: intervalMs,
      boundMs: config.idlePollBoundMs ?? DEFAULT_IDLE_POLL_BOUND_MS,
      safetyMs: config.safetyPollMs ?? DEFAULT_SAFETY_POLL_MS,
      ...(side === 'crm'
        ? { dailyLimit: crm.limitInfo?.apiUsage?.limit ?? SMALLEST_CRM_DAILY_LIMIT, idleShare: IDLE_SHARE }
        : {
            dailyLimit: marketingApi.dailyLimit,
            idleShare: Math.min(IDLE_SHARE, marketingApi.share / 2),
          }),
    }),
    pass: (poll) => pass({ pollCrm: poll.crm, pollMarketing: poll.marketing }),
  });
  const kick = () => scheduler.kick();
  const stream =
    config.changeEvents === false
      ? null
      : new CrmChangeStream({
          database,
          crm,
          unitId,
          now,
          log,
          onQueued: kick,
          // Changes made before the subscription: the next pass polls the CRM for them.
          onFreshStart: () => scheduler.kick('crm'),
          // Events lost (a replay id past the org's retention): said plainly, kept for status,
          // and the window reconciled by querying the CRM now.
          onGap: (gap) => {
            log.warn(
              { replayId: gap.replayId, lastEventAt: gap.lastEventAt, reason: gap.reason },
              'CRM change events were lost (the saved replay id is past the retention window); querying the CRM for what changed',
            );
            void saveChangeEventGap(database.db, unitId, gap).catch(() => undefined);
            scheduler.kick('crm');
          },
        });
  // A webhook queues its prospect; the pass it brings also polls marketing, for the
  // activities (opens, clicks, visits) no webhook announces.
  const receiver = config.webhookSecret
    ? new MarketingWebhookReceiver({
        database,
        unitId,
        secret: config.webhookSecret,
        now,
        windowMs: activitySettingsSchema.parse(config.activities ?? {}).batchMs,
        // A hand-off or a person's change is worked at once (within the coalescing window); an
        // engagement change when its window ends. The pass after each also polls marketing, for
        // the activities (opens, clicks, visits) no webhook announces.
        onQueued: (kind) =>
          kind === 'engagement'
            ? scheduler.notice('marketing')
            : scheduler.kick('marketing', { handoff: kind === 'handoff' }),
      })
    : null;
  /** What each pass did, in the log: its errors once a minute, counted; its work at info. */
  const report = (r: PassResult) => {
    for (const e of r.errors)
      repeated.write(
        'warn',
        `${e.side} ${e.record} ${e.message}`,
        { side: e.side, record: e.record },
        e.message,
      );
    if (r.throttled)
      repeated.write(
        'warn',
        `throttled ${r.throttled}`,
        { side: r.throttled },
        `the connector's share of the ${r.throttled === 'crm' ? 'CRM' : 'marketing'} API's daily limit is spent: waiting (handoff sync status)`,
      );
    const busy = r.queued + r.worked > 0 || Boolean(r.throttled);
    // Idle passes (most of them) at debug only.
    if (busy || log.isLevelEnabled('debug'))
      log[busy ? 'info' : 'debug'](
        {
          queued: r.queued,
          worked: r.worked,
          created: r.created,
          leadsCreated: r.leadsCreated,
          writesToCrm: r.writesToCrm,
          writesToMarketing: r.writesToMarketing,
          waiting: r.waiting,
          throttled: r.throttled,
          crmChanges: r.crmChanges,
          marketingChanges: r.marketingChanges,
          ms: r.ms,
        },
        'sync pass',
      );
  };
  let lastPass: ConnectorStatus['lastPass'] = null;
  /** A pass, with what it did added to its minute's metrics and its outcome kept for status. */
  const pass = async (options: { pollCrm?: boolean; pollMarketing?: boolean } = {}): Promise<PassResult> => {
    const calls = { crm: crmCallsSent(crm), marketing: marketing.callsSent };
    const started = performance.now();
    try {
      const result = await engine.runPass(options);
      result.ms = Math.round(performance.now() - started);
      lastPass = { at: now().toISOString(), ok: true };
      result.calls = { crm: crmCallsSent(crm) - calls.crm, marketing: marketing.callsSent - calls.marketing };
      const counts = {
        synced: result.worked,
        writesToCrm: result.writesToCrm,
        writesToMarketing: result.writesToMarketing,
        crmCalls: result.calls.crm,
        marketingCalls: result.calls.marketing,
        errors: result.errors.length,
      };
      // An idle pass (most of them, a second apart) adds nothing: no write.
      if (Object.values(counts).some((n) => n > 0))
        await addMinuteMetrics(database.db, unitId, { minute: minuteOf(now()), ...counts });
      report(result);
      return result;
    } catch (error) {
      lastPass = { at: now().toISOString(), ok: false, message: (error as Error).message };
      repeated.write('error', `pass ${(error as Error).message}`, { err: error }, 'sync pass failed');
      throw error;
    }
  };
  /**
   * The first start for the unit (nothing captured, nothing linked): what both sides hold
   * predates the cursors, so a backfill links it — now, or when someone runs one.
   */
  const firstStart = async () => {
    if (await isFirstStart(database.db, unitId)) {
      await markFirstStart(database.db, unitId, now().toISOString());
      if (!config.backfillOnFirstStart)
        log.warn(
          'first start: records made before now sync only through a backfill — run `handoff sync backfill`, or Run backfill in the console',
        );
    }
    // A first-start backfill stopped half way (a restart) goes on where it stopped.
    if (!config.backfillOnFirstStart || !(await selectBackfillState(database.db, unitId)).needed) return;
    log.info('first start: linking what both sides already hold (backfill)');
    const done = await backfill(parts);
    log.info({ linked: done.linked, queued: done.queued }, 'first-start backfill done');
  };
  const probe = new ConnectionProbe(crm, marketing, now);
  return {
    engine,
    runOnce: () => pass(),
    async linkOf(recordId) {
      const link = /^\d+$/.test(recordId)
        ? await selectLinkByProspect(database.db, unitId, Number(recordId))
        : await selectLinkByCrmId(database.db, unitId, recordId);
      return link ?? null;
    },
    skip: (ids) => skipSyncErrors(database.db, unitId, ids, now().toISOString()),
    status: () =>
      readStatus({
        database,
        unitId,
        probe,
        crmApiShare: config.crmApiShare ?? 0.8,
        marketingApi,
        polling: started ? scheduler.state() : null,
        lastPass,
        changeEvents: streaming,
        now: now(),
      }),
    metrics: (minutes) => readMetrics(database, unitId, minutes, now()),
    settings: () => {
      const { mappings, rules } = engine.configured;
      return { mappings: { Lead: [...mappings.Lead], Contact: [...mappings.Contact] }, rules: { ...rules } };
    },
    async saveSettings(settings) {
      const problems = await engine.reconfigure(settings.mappings, settings.rules as SyncRules);
      if (problems.length > 0) return problems;
      await saveSettings(database.db, unitId, JSON.stringify(settings));
      // The new settings reach the pairs already linked, not only those that change from now
      // on: the pairs they write to (as the preview shows) are queued for the sync.
      try {
        const preview = await previewSettings(parts, settings as SyncSettings & { rules: SyncRules });
        await applySettingsPreview(parts, preview);
        if (preview.keys.length > 0) kick();
      } catch (error) {
        log.warn({ err: error }, 'settings saved; the linked pairs they change were not queued');
      }
      return [];
    },
    previewSettings: (settings) => previewSettings(parts, settings as SyncSettings & { rules: SyncRules }),
    fieldCatalog: () => engine.fieldCatalog(),
    syncLog: (recordId) => selectRecordLog(database, unitId, recordId),
    async backfill({ onProgress, restart, chunkSize } = {}) {
      if (restart) await forgetBackfill(database.db, unitId);
      return backfill({ ...parts, onProgress, chunkSize });
    },
    verifyEstimate: () => verifyEstimate(parts),
    verify: ({ repair } = {}) => verifyAndRecord(parts, repair),
    verifyRuns: (limit) => selectVerifyRuns(database.db, unitId, limit),
    verifyRun: (id) => selectVerifyRun(database.db, unitId, id),
    errors: (states = ['open', 'retry'], limit) => selectSyncErrors(database.db, unitId, states, limit),
    retry: (ids) => markForRetry(database.db, unitId, ids, now().toISOString()),
    pause: (paused) => setPaused(database.db, unitId, paused),
    start(intervalMs) {
      if (started) return;
      started = true;
      verifySchedule?.start();
      scheduler.start(intervalMs, () =>
        firstStart().catch((error: unknown) => log.error({ err: error }, 'first-start backfill failed')),
      );
      void stream
        ?.start()
        .then(() => stream.ready)
        .then((ready) => (streaming = ready))
        .catch((error: unknown) => log.warn({ err: error }, 'change events not started'));
    },
    kick,
    changeEventsReady: () => stream?.ready ?? Promise.resolve(false),
    async receiveWebhook(body, signature) {
      if (!receiver)
        return { status: 404, body: { accepted: false, message: 'webhooks are not configured' } };
      return receiver.receive(body, signature);
    },
    registerMetrics: (registry) => connectorGauges(registry, { database, unitId, now }),
    readiness: () => connectorReadiness(database, config),
    async stop() {
      await stream?.stop();
      await scheduler.stop();
      await verifySchedule?.stop();
    },
  };
}
