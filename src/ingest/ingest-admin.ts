import type { Database } from '../store/database.js';
import { migrateArea } from '../store/migrations.js';
import { SourceService } from './source-service.js';
import * as store from './store/ingest-store.js';
import { ingestMigrations } from './store/migrations.js';

/**
 * The ingest as the store holds it, for the commands that manage it offline (`handoff ingest
 * sources …`, `handoff ingest failures`): sources and failed deliveries, no marketing engine
 * needed. A running ingest delivers what is put back in line.
 */
export interface IngestAdmin {
  sources: SourceService;
  failures(limit: number): Promise<store.StoredEvent[]>;
  /** Puts every failed delivery back in line; how many. */
  retryFailed(): Promise<number>;
}

export async function openIngestAdmin(database: Database): Promise<IngestAdmin> {
  await migrateArea(database, 'ingest', ingestMigrations);
  return {
    sources: new SourceService(database, () => new Date()),
    failures: (limit) => store.selectByStatus(database.db, 'failed', { limit }),
    retryFailed: () => store.retryFailed(database.db, 'all', new Date().toISOString()),
  };
}
