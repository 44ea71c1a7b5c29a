import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../store/database.js';
import { createLogger } from '../log.js';
import { migrateArea } from '../store/migrations.js';
import { UnitOfWork } from '../store/unit-of-work.js';
import { DailyCounter } from '../store/daily-counter.js';
import { apiUsageStore } from './auth/auth-store.js';
import { BulkIngestService } from './bulk/bulk-ingest-service.js';
import { BulkQueryService } from './bulk/bulk-query-service.js';
import { Bulk1Service } from './bulk/bulk1-service.js';
import { OAuthService } from './auth/oauth-service.js';
import { crmConfigSchema, type CrmConfig, type CrmConfigInput } from './crm-config.js';
import { IdAllocator } from './domain/record-id.js';
import { ChangeEventService } from './events/change-event-service.js';
import { StreamingService } from './events/streaming-service.js';
import { FaultInjector } from '../faults/fault-rules.js';
import { crmFaultRuleSchema, type CrmFaultKind } from './faults/crm-faults.js';
import { SchemaRegistry } from './domain/schema/schema-registry.js';
import { SearchService } from './search-service.js';
import { LeadConversionService } from './lead-conversion-service.js';
import { MergeService } from './merge-service.js';
import { deployedSchema, mergedSchema, MetadataService } from './metadata-service.js';
import { QueryService } from './query-service.js';
import { RecordService } from './record-service.js';
import { crmMigrations } from './store/migrations/index.js';
import { syncRecordTables } from './store/record-tables.js';
import { syncActivityViews } from './store/activity-views.js';
import { ACTIVITY_VIEWS } from './domain/schema/activity-objects.js';

/** How often a CRM process looks for deploys made by others sharing its database. */
const METADATA_CATCH_UP_MS = 5_000;

/** The URLs clients reach the CRM at; known only once the server listens (port 0 picks one). */
export interface CrmUrls {
  loginUrl: () => string;
  instanceUrl: () => string;
}

/** Everything the CRM's routes use, built once per server. */
export interface CrmServices {
  config: CrmConfig;
  database: Database;
  schema: SchemaRegistry;
  unitOfWork: UnitOfWork;
  records: RecordService;
  queries: QueryService;
  search: SearchService;
  conversions: LeadConversionService;
  merges: MergeService;
  bulkIngest: BulkIngestService;
  bulkQuery: BulkQueryService;
  /** Bulk API 1.0 jobs and batches. */
  bulk1: Bulk1Service;
  changeEvents: ChangeEventService;
  /** PushTopics and generic streaming channels. */
  streaming: StreamingService;
  /** Metadata API deploys: custom objects and fields, and the components kept as deployed. */
  metadata: MetadataService;
  oauth: OAuthService;
  usage: DailyCounter;
  urls: CrmUrls;
  orgId: () => string;
  /** The org's administrator: the only user who may steer fault injection. */
  adminUserId: () => string;
  faults: FaultInjector<CrmFaultKind>;
  /** Lets composite subrequests through the auth hook as the composite's caller. */
  internalSecret: string;
  now: () => Date;
  setUrls(baseUrl: string): void;
  /** Set when the org is created or found at start. */
  setOrg(ids: { orgId: string; adminUserId: string }): void;
  close(): Promise<void>;
}

export interface OpenCrmOptions {
  database: Database;
  config?: CrmConfigInput;
  now?: () => Date;
}

async function loadOrgId(database: Database): Promise<string> {
  const r = await sql<{ Id: string }>`select "Id" from crm_organization order by "Id" limit 1`.execute(
    database.db,
  );
  return r.rows[0]?.Id ?? '';
}

/** Migrates the CRM's tables, builds its services and starts its background work. */
export async function openCrm(options: OpenCrmOptions): Promise<CrmServices> {
  const config = crmConfigSchema.parse(options.config ?? {});
  const now = options.now ?? (() => new Date());
  const { database } = options;
  await migrateArea(database, 'crm', crmMigrations);
  // The org's schema: config's custom objects and fields, then what Metadata API deploys added.
  const declared = mergedSchema(
    { objects: config.customObjects, fields: config.customFields },
    await deployedSchema(database),
  );
  const schema = new SchemaRegistry(declared);
  await syncRecordTables(database, schema);
  await syncActivityViews(database, ACTIVITY_VIEWS);

  const log = createLogger('crm');
  const unitOfWork = new UnitOfWork(database.db);
  const changeEvents = new ChangeEventService({ database, unitOfWork, now });
  await changeEvents.start();
  // A User written (deactivated, say) sends the OAuth service back to the store for its sessions.
  let userChanged = () => {};
  const records = new RecordService({
    schema,
    database,
    unitOfWork,
    ids: new IdAllocator(),
    config,
    events: {
      record: (ctx, changes) => {
        if (changes.some((change) => change.def.name === 'User')) userChanged();
        return changeEvents.record(ctx, changes);
      },
    },
    now,
  });
  await records.start();
  const queries = new QueryService({ schema, dialect: database.dialect, unitOfWork, now });
  const streaming = new StreamingService({ database, schema, queries, changeEvents, now });
  await streaming.start();
  let baseUrl = 'http://127.0.0.1';
  let orgId = await loadOrgId(database);
  let adminUserId = '';
  if (config.faults.length > 0 && !config.faultInjection)
    throw new Error('crm.faults is set but fault injection is off: set faults.enabled, or pass --faults');
  const faults = new FaultInjector<CrmFaultKind>(crmFaultRuleSchema);
  for (const rule of config.faults) faults.add(rule);
  const urls: CrmUrls = { loginUrl: () => baseUrl, instanceUrl: () => baseUrl };
  const oauth = new OAuthService({
    database,
    schema,
    orgId: () => orgId,
    loginUrl: urls.loginUrl,
    instanceUrl: urls.instanceUrl,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    now,
  });
  userChanged = () => oauth.forgetCachedSessions();
  // Apps for the web-server flow, as configured: registered, or their secret and callbacks updated.
  for (const app of config.connectedApps) await oauth.ensureConnectedApp(app);
  const bulkIngest = new BulkIngestService({
    database,
    unitOfWork,
    records,
    schema,
    now,
    onError: (error) => log.error({ err: error }, 'bulk job processing failed'),
  });
  await bulkIngest.start();
  const bulkQuery = new BulkQueryService({
    database,
    queries,
    allocateJobId: () => bulkIngest.allocateJobId(),
    now,
    onError: (error) => log.error({ err: error }, 'bulk query job failed'),
  });
  await bulkQuery.start();
  const bulk1 = new Bulk1Service({
    database,
    unitOfWork,
    records,
    schema,
    queries,
    allocateJobId: () => bulkIngest.allocateJobId(),
    seedJobId: (highest) => bulkIngest.seedJobId(highest),
    now,
    onError: (error) => log.error({ err: error }, 'Bulk API 1.0 batch processing failed'),
  });
  await bulk1.start();
  const metadata = new MetadataService({ database, schema, declared, now });
  await metadata.start();
  const usage = new DailyCounter(apiUsageStore(database.db), config.dailyApiLimit, now, (error) =>
    log.warn({ err: error }, 'saving the API usage count failed; it is tried again'),
  );
  await usage.start();
  // Housekeeping every ten minutes: expired tokens, recycle-bin records past their 15 days, and
  // change events past their 72 hours, generic streaming events past their 24.
  const purge = setInterval(() => {
    void oauth.purgeExpired().catch((error: unknown) => log.warn({ err: error }, 'token purge failed'));
    void records
      .purgeRecycleBin()
      .catch((error: unknown) => log.warn({ err: error }, 'recycle bin purge failed'));
    void changeEvents
      .purgeExpired()
      .catch((error: unknown) => log.warn({ err: error }, 'change event purge failed'));
    void streaming
      .purgeExpired()
      .catch((error: unknown) => log.warn({ err: error }, 'streaming event purge failed'));
  }, 10 * 60_000);
  purge.unref();
  // Another CRM process sharing the database may deploy custom objects: taken in within seconds.
  const metadataCatchUp = setInterval(() => {
    void metadata
      .catchUp()
      .catch((error: unknown) => log.warn({ err: error }, "taking in another process's deploy failed"));
  }, METADATA_CATCH_UP_MS);
  metadataCatchUp.unref();

  return {
    config,
    database,
    schema,
    unitOfWork,
    records,
    queries,
    search: new SearchService({ schema, queries }),
    conversions: new LeadConversionService(records, unitOfWork, now),
    merges: new MergeService(records, unitOfWork),
    bulkIngest,
    bulkQuery,
    bulk1,
    changeEvents,
    streaming,
    metadata,
    oauth,
    usage,
    urls,
    orgId: () => orgId,
    adminUserId: () => adminUserId,
    faults,
    internalSecret: randomBytes(24).toString('base64url'),
    now,
    setUrls(url: string) {
      // Behind a proxy, the address clients use is the configured one, not the socket's.
      baseUrl = (config.publicUrl ?? url).replace(/\/+$/, '');
    },
    setOrg(ids: { orgId: string; adminUserId: string }) {
      orgId = ids.orgId;
      adminUserId = ids.adminUserId;
    },
    async close() {
      clearInterval(purge);
      clearInterval(metadataCatchUp);
      changeEvents.stop();
      streaming.stop();
      await bulk1.close();
      await bulkIngest.close();
      await usage.stop();
    },
  };
}
