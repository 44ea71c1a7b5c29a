import { Migrator, type Migration } from 'kysely';
import { currentSchema, type Database } from './database.js';

/** An area's ordered migrations; names sort in the order they apply ("001-initial"). */
export type AreaMigrations = (database: Database) => Record<string, Migration>;

/**
 * Brings one area's tables up to date. Each area keeps its own migration history table
 * (`<area>_migration`), so areas evolve independently and never touch each other's tables.
 */
export async function migrateArea(
  database: Database,
  area: string,
  migrations: AreaMigrations,
): Promise<void> {
  const schema = await currentSchema(database);
  const migrator = new Migrator({
    db: database.db,
    // Without a schema Kysely finds a history table of the same name in any schema on the server.
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: { getMigrations: () => Promise.resolve(migrations(database)) },
    migrationTableName: `${area}_migration`,
    migrationLockTableName: `${area}_migration_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `migration ${area}/${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
