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
import { settingOrCreate } from './store/unit-store.js';
import type { TokenVerifier } from './token-verifier.js';
import type { FaultInjector } from '../faults/fault-rules.js';
import type { GradingProfile } from './domain/grading.js';
import { FormHandlerService } from './forms/form-handler-service.js';
import { newMarketingFaultInjector, type MarketingFaultKind } from './marketing-faults.js';

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
  tokens: TokenVerifier;
  faults: FaultInjector<MarketingFaultKind>;
  /**
   * Signs v5 page tokens, so a client cannot forge a position or widen a query. Kept in the
   * store, so tokens stay valid across restarts and across processes sharing PostgreSQL.
   */
  pageTokenSecret: Buffer;
  now: () => Date;
  close(): Promise<void>;
}

export interface OpenMarketingOptions {
  database: Database;
  tokens: TokenVerifier;
  /** Fault rules active from the start (`marketing.faults` in handoff.config.json). */
  faults?: unknown[];
  /** Points per visitor activity type over the defaults (`marketing.scoring` in handoff.config.json). */
  scoring?: Record<number, number>;
  /** The grading profile (`marketing.grading`); none: grades are only what writers set. */
  grading?: GradingProfile;
  now?: () => Date;
}

/** Migrates the marketing engine's tables and builds its services. */
export async function openMarketing(options: OpenMarketingOptions): Promise<MarketingServices> {
  const now = options.now ?? (() => new Date());
  const { database } = options;
  await migrateArea(database, 'marketing', marketingMigrations);
  const unitOfWork = new UnitOfWork(database.db);
  const units = new BusinessUnitService(database, now);
  await units.start();
  const prospects = new ProspectService({ database, unitOfWork, now, grading: options.grading });
  const log = createLogger('marketing');
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
  const faults = newMarketingFaultInjector();
  for (const rule of options.faults ?? []) faults.add(rule);
  const activities = new ActivityService({ collections, prospects, unitOfWork, scoring: options.scoring });
  return {
    faults,
    database,
    units,
    prospects,
    imports,
    exports,
    collections,
    activities,
    formHandlers: new FormHandlerService({ units, collections, prospects, activities, unitOfWork }),
    tokens: options.tokens,
    pageTokenSecret: Buffer.from(
      await settingOrCreate(database.db, 'page_token_secret', randomBytes(32).toString('base64')),
      'base64',
    ),
    now,
    async close() {
      await imports.close();
      await exports.close();
      await units.close();
    },
  };
}
