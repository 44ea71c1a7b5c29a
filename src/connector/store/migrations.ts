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
          // Set when the pair was sent to the recycle bins: an undelete on one side brings both back.
          .addColumn('deleted', int, (c) => c.notNull())
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
    '002-sync-errors': {
      async up(db) {
        // Writes the other side refused for good: one open error per record and side.
        await db.schema
          .createTable('connector_sync_error')
          .addColumn('id', dialect.columnType('serial-key'))
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('side', text, (c) => c.notNull())
          .addColumn('crm_object', text, (c) => c.notNull())
          .addColumn('crm_id', text)
          .addColumn('prospect_id', int)
          .addColumn('fields', text)
          .addColumn('category', text, (c) => c.notNull())
          .addColumn('code', text)
          .addColumn('message', text, (c) => c.notNull())
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await sql`create index connector_sync_error_state on connector_sync_error (unit_id, state, id)`.execute(
          db,
        );
      },
    },
    '003-work-queue': {
      async up(db) {
        // One item per record and side, coalesced: a newer change replaces the captured copy and
        // bumps the version, so a worker holding the older copy does not delete the newer one.
        await db.schema
          .createTable('connector_queue')
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('item_key', text, (c) => c.notNull())
          .addColumn('priority', int, (c) => c.notNull())
          .addColumn('payload', text)
          .addColumn('version', int, (c) => c.notNull())
          .addColumn('attempts', int, (c) => c.notNull())
          .addColumn('due_at', ts, (c) => c.notNull())
          .addColumn('lease_owner', text)
          .addColumn('lease_until', ts)
          .addColumn('last_error', text)
          .addColumn('created_at', ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('connector_queue_key', ['unit_id', 'item_key'])
          .execute();
        await sql`create index connector_queue_due on connector_queue (unit_id, priority, due_at)`.execute(
          db,
        );
        // Named leases: the one process that captures changes at a time.
        await db.schema
          .createTable('connector_lease')
          .addColumn('name', text, (c) => c.primaryKey())
          .addColumn('owner', text, (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .execute();
      },
    },
    '004-sync-log': {
      async up(db) {
        // Field by field: what the sync wrote, to which side, why, and with which call.
        await db.schema
          .createTable('connector_sync_log')
          .addColumn('id', dialect.columnType('serial-key'))
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('crm_object', text, (c) => c.notNull())
          .addColumn('crm_id', text)
          .addColumn('prospect_id', int)
          .addColumn('field', text, (c) => c.notNull())
          .addColumn('crm_field', text)
          .addColumn('to_side', text, (c) => c.notNull())
          .addColumn('value', text)
          .addColumn('previous', text)
          .addColumn('reason', text, (c) => c.notNull())
          .addColumn('api_call', text, (c) => c.notNull())
          .addColumn('at', ts, (c) => c.notNull())
          .execute();
        await sql`create index connector_sync_log_crm on connector_sync_log (unit_id, crm_id, id)`.execute(
          db,
        );
        await sql`create index connector_sync_log_prospect on connector_sync_log (unit_id, prospect_id, id)`.execute(
          db,
        );
      },
    },
    '005-campaign-members': {
      async up(db) {
        // Which list members are synced with which CRM CampaignMember: a member missing on one
        // side afterwards was removed there, and is removed on the other.
        await db.schema
          .createTable('connector_campaign_member')
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('list_id', int, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .addColumn('crm_member_id', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('connector_campaign_member_pk', ['unit_id', 'list_id', 'prospect_id'])
          .execute();
      },
    },
    '006-metrics': {
      async up(db) {
        // What the sync did, a row a minute: the console charts the last hour or day from it.
        let table = db.schema
          .createTable('connector_metric')
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('minute', text, (c) => c.notNull());
        for (const column of [
          'synced',
          'writes_crm',
          'writes_marketing',
          'crm_calls',
          'marketing_calls',
          'errors',
        ])
          table = table.addColumn(column, int, (c) => c.notNull());
        await table.addPrimaryKeyConstraint('connector_metric_pk', ['unit_id', 'minute']).execute();
      },
    },
    '007-settled-refusals': {
      async up(db) {
        // The values the CRM refused for a pair (prospect field → value): not sent again until
        // one of them changes or someone retries, so a refusal is tried once, not every pass.
        await db.schema.alterTable('connector_link').addColumn('refused', text).execute();
        // What an error's write carried, whom it concerns, and how often it was refused: an
        // error refused again for the same reason keeps its id and since.
        await db.schema.alterTable('connector_sync_error').addColumn('refused_values', text).execute();
        await db.schema.alterTable('connector_sync_error').addColumn('person', text).execute();
        await db.schema
          .alterTable('connector_sync_error')
          .addColumn('tries', int, (c) => c.notNull().defaultTo(1))
          .execute();
        await sql`create index connector_sync_error_record on connector_sync_error (unit_id, crm_id)`.execute(
          db,
        );
        await sql`create index connector_sync_error_prospect on connector_sync_error (unit_id, prospect_id)`.execute(
          db,
        );
      },
    },
    '008-verify-runs': {
      async up(db) {
        // Each `sync verify` (by hand, from the console or on its schedule): its counts for the
        // trend, and its differences (the first 10,000) for the console to show and repair.
        await db.schema
          .createTable('connector_verify_run')
          .addColumn('id', dialect.columnType('serial-key'))
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('started_at', ts, (c) => c.notNull())
          .addColumn('finished_at', ts, (c) => c.notNull())
          .addColumn('pairs', int, (c) => c.notNull())
          .addColumn('difference_count', int, (c) => c.notNull())
          .addColumn('summary', text, (c) => c.notNull())
          .addColumn('differences', text, (c) => c.notNull())
          .execute();
        await sql`create index connector_verify_run_unit on connector_verify_run (unit_id, id)`.execute(db);
      },
    },
  };
}
