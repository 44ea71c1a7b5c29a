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
    '002-bulk-jobs': {
      async up(db) {
        await db.schema
          .createTable('crm_bulk_job')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('job_type', text, (c) => c.notNull())
          .addColumn('object', text, (c) => c.notNull())
          .addColumn('operation', text, (c) => c.notNull())
          .addColumn('external_id_field', text)
          .addColumn('query', text)
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('column_delimiter', text, (c) => c.notNull())
          .addColumn('line_ending', text, (c) => c.notNull())
          .addColumn('api_version', text, (c) => c.notNull())
          .addColumn('created_by_id', id, (c) => c.notNull())
          .addColumn('created_date', ts, (c) => c.notNull())
          .addColumn('system_modstamp', ts, (c) => c.notNull())
          .addColumn('records_processed', int, (c) => c.notNull())
          .addColumn('records_failed', int, (c) => c.notNull())
          .addColumn('processing_ms', int, (c) => c.notNull())
          .addColumn('error_message', text)
          // The header of the uploaded CSV, and how far processing has got (upload seq, rows done in it):
          // a restart resumes there instead of applying rows twice.
          .addColumn('columns', text)
          .addColumn('resume_upload', int, (c) => c.notNull())
          .addColumn('resume_row', int, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('crm_bulk_upload')
          .addColumn('job_id', id, (c) => c.notNull())
          .addColumn('seq', int, (c) => c.notNull())
          .addColumn('data', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('crm_bulk_upload_pk', ['job_id', 'seq'])
          .execute();
        await db.schema
          .createTable('crm_bulk_result')
          .addColumn('job_id', id, (c) => c.notNull())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('seq', int, (c) => c.notNull())
          .addColumn('csv', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('crm_bulk_result_pk', ['job_id', 'kind', 'seq'])
          .execute();
      },
    },
    '003-change-events': {
      async up(db) {
        // One row per change event, numbered by replay id. Retained 72 hours.
        await db.schema
          .createTable('crm_change_event')
          .addColumn('replay_id', dialect.columnType('serial-key'))
          .addColumn('entity', text, (c) => c.notNull())
          .addColumn('commit_ms', int, (c) => c.notNull())
          .addColumn('payload', text, (c) => c.notNull())
          .execute();
        await sql`create index crm_change_event_entity on crm_change_event (entity, replay_id)`.execute(db);
        await sql`create index crm_change_event_commit on crm_change_event (commit_ms)`.execute(db);
        await db.schema.alterTable('crm_bulk_job').addColumn('call_client', text).execute();
      },
    },
    '004-oauth-web-server-flow': {
      async up(db) {
        // Where a connected app may send its users back with a code: exact URLs, a JSON array.
        await db.schema.alterTable('crm_connected_app').addColumn('callback_urls', text).execute();
        // Authorization codes, single-use and short-lived, bound to the app, the callback URL and
        // (PKCE) the code challenge. Only their hash is kept, like tokens'.
        await db.schema
          .createTable('crm_oauth_code')
          .addColumn('code_hash', text, (c) => c.primaryKey())
          .addColumn('client_id', text, (c) => c.notNull())
          .addColumn('user_id', id, (c) => c.notNull())
          .addColumn('redirect_uri', text, (c) => c.notNull())
          .addColumn('code_challenge', text)
          .addColumn('code_challenge_method', text)
          .addColumn('expires_at', text, (c) => c.notNull())
          .execute();
      },
    },
    '005-bulk-api-1': {
      async up(db) {
        // Bulk API 1.0: jobs hold batches, each batch its request as sent and, once processed,
        // a result per row (JSON) — or, for a query, the count its result file will hold.
        await db.schema
          .createTable('crm_bulk1_job')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('object', text, (c) => c.notNull())
          .addColumn('operation', text, (c) => c.notNull())
          .addColumn('external_id_field', text)
          .addColumn('content_type', text, (c) => c.notNull())
          .addColumn('concurrency_mode', text, (c) => c.notNull())
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('api_version', text, (c) => c.notNull())
          .addColumn('created_by_id', id, (c) => c.notNull())
          .addColumn('call_client', text)
          .addColumn('created_date', ts, (c) => c.notNull())
          .addColumn('system_modstamp', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('crm_bulk1_batch')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('job_id', id, (c) => c.notNull())
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('state_message', text)
          .addColumn('request', text, (c) => c.notNull())
          .addColumn('results', text)
          .addColumn('records_processed', int, (c) => c.notNull())
          .addColumn('records_failed', int, (c) => c.notNull())
          .addColumn('processing_ms', int, (c) => c.notNull())
          .addColumn('created_date', ts, (c) => c.notNull())
          .addColumn('system_modstamp', ts, (c) => c.notNull())
          .execute();
        await sql`create index crm_bulk1_batch_job on crm_bulk1_batch (job_id, created_date)`.execute(db);
        await sql`create index crm_bulk1_batch_state on crm_bulk1_batch (state, created_date)`.execute(db);
      },
    },
    '006-streaming-channels': {
      async up(db) {
        // Generic streaming events pushed to `/u/…` channels, kept for replay like change events.
        await db.schema
          .createTable('crm_streaming_event')
          .addColumn('replay_id', dialect.columnType('serial-key'))
          .addColumn('channel', text, (c) => c.notNull())
          .addColumn('created_ms', int, (c) => c.notNull())
          .addColumn('payload', text, (c) => c.notNull())
          .execute();
        await sql`create index crm_streaming_event_channel on crm_streaming_event (channel, replay_id)`.execute(
          db,
        );
        await sql`create index crm_streaming_event_created on crm_streaming_event (created_ms)`.execute(db);
      },
    },
    '007-login-sessions': {
      async up(db) {
        // Who logged in on the login page (the web-server flow's), by the hash of their cookie.
        await db.schema
          .createTable('crm_login_session')
          .addColumn('token_hash', text, (c) => c.primaryKey())
          .addColumn('user_id', id, (c) => c.notNull())
          .addColumn('expires_at', text, (c) => c.notNull())
          .execute();
        await sql`create index crm_login_session_expiry on crm_login_session (expires_at)`.execute(db);
      },
    },
    '008-deployed-metadata': {
      async up(db) {
        // What Metadata API deploys put in the org, by type and name: custom objects and fields
        // rebuild the schema at each start; every other component is kept as deployed.
        await db.schema
          .createTable('crm_metadata_component')
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('full_name', text, (c) => c.notNull())
          .addColumn('file_name', text, (c) => c.notNull())
          .addColumn('content', text, (c) => c.notNull())
          .addColumn('deployed_at', ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('crm_metadata_component_pk', ['type', 'full_name'])
          .execute();
        // Each deploy's result, as checkDeployStatus answers it.
        await db.schema
          .createTable('crm_metadata_deploy')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('result', text, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .execute();
      },
    },
  };
}
