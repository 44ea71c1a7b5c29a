import { randomBytes } from 'node:crypto';
import type { Database } from '../store/database.js';
import { migrateArea } from '../store/migrations.js';
import { UnitOfWork } from '../store/unit-of-work.js';
import { BusinessUnitService } from './business-units.js';
import { ImportService } from './import-service.js';
import { ExportService } from './export-service.js';
import { CollectionService } from './collections/collection-service.js';
import { ActivityService } from './activity-service.js';
import { createLogger } from '../log.js';
import { ProspectService } from './prospect-service.js';
import { marketingMigrations } from './store/migrations/index.js';
import { secretSettingOrCreate } from './store/unit-store.js';
import type { TokenVerifier } from './token-verifier.js';
import type { FaultInjector } from '../faults/fault-rules.js';
import type { GradingProfile } from './domain/grading.js';
import { FormHandlerService } from './forms/form-handler-service.js';
import { newMarketingFaultInjector, type MarketingFaultKind } from './marketing-faults.js';
import { TrackingService } from './tracking/tracking-service.js';
import { WebhookService, type WebhookSubscription } from './webhooks/webhook-service.js';
import { ActionRunner } from './automation/action-runner.js';
import { AutomationService } from './automation/automation-service.js';
import { SubmissionService } from './forms/submission.js';
import { FormService } from './forms/form-service.js';
import { EmailService } from './email/email-service.js';

/** Everything the marketing engine's routes use, built once per server. */
export interface MarketingServices {
  database: Database;
  units: BusinessUnitService;
  prospects: ProspectService;
  imports: ImportService;
  exports: ExportService;
  collections: CollectionService;
  activities: ActivityService;
  /** Submissions from customers' own forms. */
  formHandlers: FormHandlerService;
  /** Visitors, page views and visits from pd.js. */
  tracking: TrackingService;
  /** Hosted forms and landing pages. */
  forms: FormService;
  automation: AutomationService;
  webhooks: WebhookService;
  email: EmailService;
  /**
   * Where recipients and browsers reach the engine (tracked links, page URLs): configured, or
   * set to the listening URL by whoever starts it; unset, the address a request reached.
   */
  publicUrl: string | null;
  tokens: TokenVerifier;
  faults: FaultInjector<MarketingFaultKind>;
  /** Whether `/_handoff/faults` takes run-time rules (the operator turned fault injection on). */
  faultInjection: boolean;
  /**
   * Signs v5 page tokens, so a client cannot forge a position or widen a query. Kept in the
   * store, so tokens stay valid across restarts and across processes sharing PostgreSQL.
   */
  pageTokenSecret: Buffer;
  /** Records one page-token sequence hands out before it stops with warning 203. */
  pageSequenceMax: number;
  now: () => Date;
  close(): Promise<void>;
}

export interface OpenMarketingOptions {
  database: Database;
  tokens: TokenVerifier;
  /** Fault injection (`faults.enabled`, `--faults`): off, `/_handoff/faults` is not there. */
  faultInjection?: boolean;
  /**
   * Records one v5 page-token sequence hands out before it stops with `Pardot-Warning: 203`
   * (default 100,000, as Account Engagement does).
   */
  pageSequenceMax?: number;
  /** Fault rules active from the start (`marketing.faults` in handoff.config.json). */
  faults?: unknown[];
  /** Points per visitor activity type over the defaults (`marketing.scoring` in handoff.config.json). */
  scoring?: Record<number, number>;
  /** The grading profile (`marketing.grading`); none: grades are only what writers set. */
  grading?: GradingProfile;
  /** Who hears of prospect changes and form successes (`marketing.webhooks`). */
  webhooks?: WebhookSubscription[];
  /** How often automation rules look at changed prospects besides on change (default 60 s). */
  automationIntervalMs?: number;
  /** The first retry of a failed webhook waits this long, doubling after (default 1 s). */
  webhookFirstRetryMs?: number;
  /** Mail goes out through this SMTP server (`marketing.smtp`); none: sends are only recorded. */
  smtp?: { url: string; from?: string };
  publicUrl?: string;
  /**
   * The deployment's key (the data dir's secret.key, or HANDOFF_SECRET_KEY): the engine's
   * signing keys are kept sealed with it in the store. None (tests, embedding): kept plain.
   */
  sealKey?: () => Buffer;
  now?: () => Date;
}

/** Migrates the marketing engine's tables and builds its services. */
export async function openMarketing(options: OpenMarketingOptions): Promise<MarketingServices> {
  const now = options.now ?? (() => new Date());
  const { database } = options;
  await migrateArea(database, 'marketing', marketingMigrations);
  const unitOfWork = new UnitOfWork(database.db);
  const log = createLogger('marketing');
  const units = new BusinessUnitService(database, now, (error) =>
    log.warn({ err: error }, "saving a unit's API usage count failed; it is tried again"),
  );
  await units.start();
  const prospects = new ProspectService({ database, unitOfWork, now, grading: options.grading });
  const imports = new ImportService({
    database,
    unitOfWork,
    prospects,
    units,
    now,
    onError: (error) => log.error({ err: error }, 'import processing failed'),
  });
  await imports.start();
  const exports = new ExportService({
    database,
    prospects,
    now,
    onError: (error) => log.error({ err: error }, 'export processing failed'),
  });
  await exports.start();
  const collections = new CollectionService({ database, unitOfWork, prospects, now });
  if ((options.faults ?? []).length > 0 && !options.faultInjection)
    throw new Error(
      'marketing.faults is set but fault injection is off: set faults.enabled, or pass --faults',
    );
  const faults = newMarketingFaultInjector();
  for (const rule of options.faults ?? []) faults.add(rule);
  const activities = new ActivityService({ collections, prospects, unitOfWork, scoring: options.scoring });
  const tracking = new TrackingService({
    collections,
    prospects,
    activities,
    unitOfWork,
    now,
    secret: Buffer.from(
      await secretSettingOrCreate(
        database.db,
        'visitor_cookie_secret',
        randomBytes(32).toString('base64'),
        options.sealKey,
      ),
      'base64',
    ),
  });
  const webhooks = new WebhookService({
    database,
    unitOfWork,
    now,
    log,
    subscriptions: options.webhooks ?? [],
    notifySecret: await secretSettingOrCreate(
      database.db,
      'webhook_secret',
      randomBytes(24).toString('base64url'),
      options.sealKey,
    ),
    firstRetryMs: options.webhookFirstRetryMs,
  });
  announceProspectWrites(prospects, webhooks);
  webhooks.start();
  const actions = new ActionRunner({ collections, prospects, webhooks, unitOfWork });
  const automation = new AutomationService({
    database,
    units,
    collections,
    prospects,
    actions,
    unitOfWork,
    now,
    log,
    intervalMs: options.automationIntervalMs,
  });
  automation.start();
  const submissions = new SubmissionService({
    prospects,
    activities,
    tracking,
    actions,
    webhooks,
    unitOfWork,
  });
  const email = new EmailService({
    collections,
    prospects,
    activities,
    unitOfWork,
    now,
    log,
    smtpUrl: options.smtp?.url,
    defaultFrom: options.smtp?.from,
  });
  return {
    tracking,
    webhooks,
    email,
    publicUrl: options.publicUrl ?? null,
    automation,
    forms: new FormService({ collections, submissions }),
    faults,
    faultInjection: options.faultInjection ?? false,
    database,
    units,
    prospects,
    imports,
    exports,
    collections,
    activities,
    formHandlers: new FormHandlerService({ collections, submissions }),
    tokens: options.tokens,
    pageTokenSecret: Buffer.from(
      await secretSettingOrCreate(
        database.db,
        'page_token_secret',
        randomBytes(32).toString('base64'),
        options.sealKey,
      ),
      'base64',
    ),
    // Account Engagement stops a sequence at 100,000 records.
    pageSequenceMax: options.pageSequenceMax ?? 100_000,
    now,
    async close() {
      await automation.stop();
      await tracking.close();
      await webhooks.stop();
      await imports.close();
      await exports.close();
      await units.close();
    },
  };
}

/** Prospect writes as webhook events: created, updated (what changed), and assigned. */
function announceProspectWrites(prospects: ProspectService, webhooks: WebhookService): void {
  prospects.observe(async ({ unit, prospectId, kind, fields, actor }) => {
    const data = { prospectId, fields, actor: actor.type };
    if (kind === 'created') await webhooks.emit(unit.id, 'prospect.created', data);
    if (kind === 'updated') await webhooks.emit(unit.id, 'prospect.updated', data);
    if (fields.includes('assignedToId')) await webhooks.emit(unit.id, 'prospect.assigned', data);
  });
}
