import type { Database } from '../store/database.js';
import { migrateArea } from '../store/migrations.js';
import { syncSettingsSchema, type SyncSettings } from './connector-config.js';
import {
  countLinks,
  countSyncErrorsByCategory,
  isPaused,
  markForRetry,
  selectApiUsage,
  selectCursors,
  selectSyncErrors,
  selectBackfillState,
  selectChangeEventGap,
  selectSavedSettings,
  setPaused,
  skipSyncErrors,
  type ApiUsage,
  type SyncError,
} from './store/link-store.js';
import { connectorMigrations } from './store/migrations.js';
import { callsToday } from './store/metrics-store.js';
import type { ChangeEventGap } from './crm-change-stream.js';
import { selectRecordLog, type StoredSyncLogEntry } from './store/sync-log.js';
import { queueDepth, type QueueDepth } from './store/work-queue.js';

/**
 * The connector's state as the store holds it, for the commands that read and steer a sync
 * running elsewhere (`handoff sync status|errors|log|pause`): no login to either side is needed,
 * and nothing here calls an API.
 */
export interface ConnectorAdmin {
  linkCount(): Promise<number>;
  paused(): Promise<boolean>;
  pause(paused: boolean): Promise<void>;
  /** Capture cursors and backfill progress, by name (`Lead`, `activities`, `backfill:Lead` …). */
  cursors(): Promise<Array<{ name: string; value: string }>>;
  queue(): Promise<QueueDepth>;
  /** The CRM API usage the last pass saw, and the connector's share of the limit. */
  crmApiUsage(): Promise<ApiUsage | undefined>;
  errors(states?: Array<SyncError['state']>): Promise<SyncError[]>;
  errorCounts(): Promise<Record<string, number>>;
  /** Tries open errors again on the next pass (all, or by id); how many were marked. */
  retry(ids: number[] | 'all'): Promise<number>;
  /** Gives up on open errors (all, or by id): how many were skipped. */
  skip(ids: number[] | 'all'): Promise<number>;
  syncLog(recordId: string): Promise<StoredSyncLogEntry[]>;
  /** The last time CRM change events were lost (and reconciled by query), if ever. */
  changeEventGap(): Promise<ChangeEventGap | null>;
  /** A side's API calls today by every connector process of the unit. */
  callsToday(side: 'crm' | 'marketing'): Promise<number>;
  /** Whether records made before the connector's first start still wait for a backfill. */
  backfill(): Promise<{ needed: boolean; doneAt: string | null }>;
  /** The mappings and rules saved from the console (the sync runs with them), if any. */
  savedSettings(): Promise<SyncSettings | null>;
}

/** The admin view of the connector of `unitId` in `database` (its tables migrated first). */
export async function openConnectorAdmin(database: Database, unitId: string): Promise<ConnectorAdmin> {
  await migrateArea(database, 'connector', connectorMigrations);
  const { db } = database;
  return {
    linkCount: () => countLinks(db, unitId),
    paused: () => isPaused(db, unitId),
    pause: (paused) => setPaused(db, unitId, paused),
    // Where a backfill reads its imports back from is a mark of its own, not a position.
    cursors: async () =>
      (await selectCursors(db, `${unitId}:`)).filter((c) => !c.name.startsWith('backfill-since:')),
    queue: () => queueDepth(database, unitId),
    crmApiUsage: () => selectApiUsage(db, unitId),
    errors: (states = ['open', 'retry']) => selectSyncErrors(db, unitId, states),
    errorCounts: () => countSyncErrorsByCategory(db, unitId),
    retry: (ids) => markForRetry(db, unitId, ids, new Date().toISOString()),
    skip: (ids) => skipSyncErrors(db, unitId, ids, new Date().toISOString()),
    syncLog: (recordId) => selectRecordLog(database, unitId, recordId),
    backfill: () => selectBackfillState(db, unitId),
    changeEventGap: () => selectChangeEventGap<ChangeEventGap>(db, unitId),
    callsToday: (side) => callsToday(db, unitId, side, new Date()),
    async savedSettings() {
      const saved = await selectSavedSettings(db, unitId);
      return saved ? syncSettingsSchema.parse(JSON.parse(saved)) : null;
    },
  };
}
