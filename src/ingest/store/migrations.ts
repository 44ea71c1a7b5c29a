import { sql, type Migration } from 'kysely';
import type { Database } from '../../store/database.js';

/** The ingest's tables: sources, the event log (also the de-duplication record), identities. */
export function ingestMigrations(database: Database): Record<string, Migration> {
  const { dialect } = database;
  const text = dialect.columnType('text');
  const ts = dialect.columnType('timestamp');
  const int = dialect.columnType('integer');
  return {
    '001-sources-events-identities': {
      async up(db) {
        await db.schema
          .createTable('ingest_source')
          .addColumn('id', dialect.columnType('id'), (c) => c.primaryKey())
          .addColumn('name', text, (c) => c.notNull())
          // sha256 of the write key: the key itself is shown once, when made.
          .addColumn('write_key_hash', text, (c) => c.notNull())
          .addColumn('settings', text, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .execute();
        await sql`create unique index ingest_source_key on ingest_source (write_key_hash)`.execute(db);
        await sql`create unique index ingest_source_name on ingest_source (name)`.execute(db);

        await db.schema
          .createTable('ingest_event')
          .addColumn('seq', dialect.columnType('serial-key'))
          .addColumn('source_id', text, (c) => c.notNull())
          .addColumn('message_id', text, (c) => c.notNull())
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('user_id', text)
          .addColumn('anonymous_id', text)
          .addColumn('message', text, (c) => c.notNull())
          .addColumn('received_at', ts, (c) => c.notNull())
          // pending → delivered | skipped | failed; waiting: parked until its person is known.
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('attempts', int, (c) => c.notNull())
          .addColumn('next_attempt_at', ts)
          .addColumn('last_error', text)
          .addColumn('result', text)
          // When a create was first tried: a retry looks for a prospect made since, before creating.
          .addColumn('create_tried_at', ts)
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        // The de-duplication key: a message id is taken once per source while its event is kept (24 h).
        await sql`create unique index ingest_event_message on ingest_event (source_id, message_id)`.execute(
          db,
        );
        // Partial indexes: only the events delivery still looks for are in them, so an event
        // written once and delivered costs no index upkeep beyond its keys.
        await sql`create index ingest_event_pending on ingest_event (seq) where status = 'pending'`.execute(
          db,
        );
        await sql`create index ingest_event_failed on ingest_event (seq) where status = 'failed'`.execute(db);
        await sql`create index ingest_event_waiting_user on ingest_event (source_id, user_id) where status = 'waiting'`.execute(
          db,
        );
        await sql`create index ingest_event_waiting_anonymous on ingest_event (source_id, anonymous_id) where status = 'waiting'`.execute(
          db,
        );
        // The 24-hour purge of finished events.
        await sql`create index ingest_event_received on ingest_event (received_at)`.execute(db);

        // Which prospect each userId / anonymousId resolved to, and its email at the time.
        await db.schema
          .createTable('ingest_identity')
          .addColumn('source_id', text, (c) => c.notNull())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('key', text, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .addColumn('email', text)
          .addColumn('updated_at', ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('ingest_identity_pk', ['source_id', 'kind', 'key'])
          .execute();
        // An email change reaches every id of the prospect.
        await sql`create index ingest_identity_prospect on ingest_identity (source_id, prospect_id)`.execute(
          db,
        );

        // One delivering process at a time (per database): a lease it renews.
        await db.schema
          .createTable('ingest_lease')
          .addColumn('name', text, (c) => c.primaryKey())
          .addColumn('owner', text, (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .execute();
      },
    },
    '002-tracker-visitors': {
      async up(db) {
        // The tracker's visitor each prospect's server-reported page views are counted on.
        await db.schema
          .createTable('ingest_visitor')
          .addColumn('source_id', text, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .addColumn('visitor_id', int, (c) => c.notNull())
          // The tracker's signature of the visitor id: it proves the visitor is ours to use.
          .addColumn('sign', text, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('ingest_visitor_pk', ['source_id', 'prospect_id'])
          .execute();
      },
    },
  };
}
