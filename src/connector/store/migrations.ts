import { sql, type Migration } from 'kysely';
import type { Database } from '../../store/database.js';

/** The connector's tables: links between prospects and CRM records, and capture cursors. */
export function connectorMigrations(database: Database): Record<string, Migration> {
  const { dialect } = database;
  const text = dialect.columnType('text');
  const ts = dialect.columnType('timestamp');
  const int = dialect.columnType('integer');
  return {
    '001-links-and-cursors': {
      async up(db) {
        // A prospect and its CRM record, and every mapped field's value when last synced.
        await db.schema
          .createTable('connector_link')
          .addColumn('id', dialect.columnType('serial-key'))
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('crm_object', text, (c) => c.notNull())
          .addColumn('crm_id', text, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .addColumn('last_synced', text, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await sql`create unique index connector_link_crm on connector_link (unit_id, crm_id)`.execute(db);
        await sql`create unique index connector_link_prospect on connector_link (unit_id, prospect_id)`.execute(
          db,
        );
        await db.schema
          .createTable('connector_cursor')
          .addColumn('name', text, (c) => c.primaryKey())
          .addColumn('value', text, (c) => c.notNull())
          .execute();
      },
    },
  };
}
