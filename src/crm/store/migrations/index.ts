import { sql, type Migration } from 'kysely';
import type { Database } from '../../../store/database.js';

/**
 * The CRM's own bookkeeping tables. Record tables (crm_lead …) follow the object metadata and
 * are kept in step by `syncRecordTables`, the way an org's schema follows its setup.
 */
export function crmMigrations(database: Database): Record<string, Migration> {
  const { dialect } = database;
  const id = dialect.columnType('id');
  const text = dialect.columnType('text');
  const ts = dialect.columnType('timestamp');
  const int = dialect.columnType('integer');
  return {
    '001-auth-and-usage': {
      async up(db) {
        await db.schema
          .createTable('crm_connected_app')
          .addColumn('client_id', text, (c) => c.primaryKey())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('client_secret_hash', text, (c) => c.notNull())
          .addColumn('certificate', text)
          .addColumn('run_as_user_id', id)
          .execute();
        await db.schema
          .createTable('crm_user_password')
          .addColumn('user_id', id, (c) => c.primaryKey())
          .addColumn('password_hash', text, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('crm_access_token')
          .addColumn('token_hash', text, (c) => c.primaryKey())
          .addColumn('user_id', id, (c) => c.notNull())
          .addColumn('client_id', text, (c) => c.notNull())
          .addColumn('issued_at', ts, (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('crm_refresh_token')
          .addColumn('token_hash', text, (c) => c.primaryKey())
          .addColumn('user_id', id, (c) => c.notNull())
          .addColumn('client_id', text, (c) => c.notNull())
          .addColumn('issued_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('crm_api_usage')
          .addColumn('day', text, (c) => c.primaryKey())
          .addColumn('used', int, (c) => c.notNull())
          .execute();
        await sql`create index crm_access_token_expiry on crm_access_token (expires_at)`.execute(db);
      },
    },
  };
}
