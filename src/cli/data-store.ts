import { join } from 'node:path';
import { openDatabase, type Database } from '../store/database.js';
import type { ResolvedConfig } from './config.js';

/** The store of a data dir: PostgreSQL when a database URL is configured, else its SQLite file. */
export function openDataStore(config: Pick<ResolvedConfig, 'databaseUrl' | 'dataDir'>): Database {
  return config.databaseUrl
    ? openDatabase({ kind: 'postgres', url: config.databaseUrl })
    : openDatabase({ kind: 'sqlite', filename: join(config.dataDir, 'handoff.db') });
}
