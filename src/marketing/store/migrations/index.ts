// Over 400 lines on purpose: data — the marketing store's migrations, in order.
import { sql, type Kysely, type Migration } from 'kysely';
import type { Database } from '../../../store/database.js';
import { PROSPECT_FIELDS, type ProspectFieldType } from '../../domain/prospect-fields.js';
import {
  CAMPAIGNS,
  LIST_MEMBERSHIPS,
  LISTS,
  TAGS,
  VISITOR_ACTIVITIES,
  VISITORS,
  VISITS,
  FORMS,
  FORM_HANDLERS,
  FORM_HANDLER_FIELDS,
  EXTERNAL_ACTIVITIES,
  FORM_FIELDS,
  LANDING_PAGES,
  VISITOR_PAGE_VIEWS,
  EMAILS,
  AUTOMATION_RULES,
  OPPORTUNITIES,
  PROSPECT_ACCOUNTS,
  TAGGED_OBJECTS,
  type CollectionDef,
} from '../../collections/collection-defs.js';
import type { ColumnKind } from '../../../store/store-dialect.js';

function columnKind(type: ProspectFieldType): ColumnKind {
  switch (type) {
    case 'email':
      return 'ci-text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'real';
    case 'boolean':
      return 'boolean';
    case 'datetime':
      return 'timestamp';
    default:
      return 'text';
  }
}

/** Prospect fields whose columns a migration after 001 adds. */
const LATER_PROSPECT_FIELDS = new Set([
  'prospectAccountId',
  'isEmailHardBounced',
  'emailBouncedAt',
  'emailBouncedReason',
]);

/** The marketing engine's tables: business units, their users, prospects and their history. */
export function marketingMigrations(database: Database): Record<string, Migration> {
  const { dialect } = database;
  const text = dialect.columnType('text');
  const ts = dialect.columnType('timestamp');
  const int = dialect.columnType('integer');
  const serial = dialect.columnType('serial-key');

  /** A simple collection's table: its fields, the unit, the recycle-bin flag and query indexes. */
  async function createCollectionTable(
    db: Kysely<unknown>,
    def: CollectionDef,
    /** Fields a later migration adds: each migration stays as it was. */
    later: string[] = [],
  ): Promise<void> {
    let table = db.schema
      .createTable(def.table)
      .addColumn('id', serial)
      .addColumn('unit_id', text, (c) => c.notNull());
    for (const field of def.fields) {
      if (field.name === 'id' || later.includes(field.name)) continue;
      table = table.addColumn(field.column, dialect.columnType(columnKind(field.type)));
    }
    await table.addColumn('is_deleted', int, (c) => c.notNull()).execute();
    await sql`create index ${sql.raw(`${def.table}_updated`)} on ${sql.table(def.table)} (unit_id, updated_at, id)`.execute(
      db,
    );
    if (def.unique) {
      const columns = def.unique.map((name) => def.fields.find((f) => f.name === name)!.column);
      await sql`create index ${sql.raw(`${def.table}_unique`)} on ${sql.table(def.table)} (unit_id, ${sql.join(columns.map((c) => sql.ref(c)))})`.execute(
        db,
      );
    }
  }

  return {
    '001-units-and-prospects': {
      async up(db) {
        await db.schema
          .createTable('marketing_business_unit')
          .addColumn('id', dialect.columnType('id'), (c) => c.primaryKey())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('active', int, (c) => c.notNull())
          .addColumn('allow_multiple_per_email', int, (c) => c.notNull())
          .addColumn('daily_api_limit', int, (c) => c.notNull())
          .addColumn('time_zone', text, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .execute();
        // Account Engagement users; a CRM user reaches a unit only through one of these.
        await db.schema
          .createTable('marketing_user')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('crm_user_id', text, (c) => c.notNull())
          .addColumn('email', dialect.columnType('ci-text'), (c) => c.notNull())
          .addColumn('first_name', text)
          .addColumn('last_name', text)
          .addColumn('role', text, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .execute();
        await sql`create unique index marketing_user_unit_crm on marketing_user (unit_id, crm_user_id)`.execute(
          db,
        );
        await db.schema
          .createTable('marketing_api_usage')
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('day', text, (c) => c.notNull())
          .addColumn('used', int, (c) => c.notNull())
          .addPrimaryKeyConstraint('marketing_api_usage_pk', ['unit_id', 'day'])
          .execute();
        await db.schema
          .createTable('marketing_custom_field')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('field_id', dialect.columnType('ci-text'), (c) => c.notNull())
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await sql`create unique index marketing_custom_field_unit_field on marketing_custom_field (unit_id, ${dialect.ciIndexExpression('field_id')})`.execute(
          db,
        );

        let prospect = db.schema
          .createTable('marketing_prospect')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull());
        for (const field of PROSPECT_FIELDS) {
          // Fields added by later migrations are skipped here: each migration stays as it was.
          if (field.name === 'id' || LATER_PROSPECT_FIELDS.has(field.name)) continue;
          prospect = prospect.addColumn(field.column, dialect.columnType(columnKind(field.type)));
        }
        await prospect
          .addColumn('custom_fields', text)
          .addColumn('is_deleted', int, (c) => c.notNull())
          .addColumn('deleted_at', ts)
          .execute();
        await sql`create index marketing_prospect_email on marketing_prospect (unit_id, ${dialect.ciIndexExpression('email')})`.execute(
          db,
        );
        await sql`create index marketing_prospect_updated on marketing_prospect (unit_id, updated_at, id)`.execute(
          db,
        );
        await sql`create index marketing_prospect_created on marketing_prospect (unit_id, created_at, id)`.execute(
          db,
        );
        await sql`create index marketing_prospect_crm on marketing_prospect (unit_id, salesforce_id)`.execute(
          db,
        );

        // Field-level history: who changed what, when, from what to what.
        await db.schema
          .createTable('marketing_prospect_change')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .addColumn('field', text, (c) => c.notNull())
          .addColumn('old_value', text)
          .addColumn('new_value', text)
          .addColumn('changed_at', ts, (c) => c.notNull())
          .addColumn('actor_type', text, (c) => c.notNull())
          .addColumn('actor_id', text)
          .execute();
        await sql`create index marketing_prospect_change_prospect on marketing_prospect_change (prospect_id, id)`.execute(
          db,
        );
      },
    },
    '002-imports': {
      async up(db) {
        await db.schema
          .createTable('marketing_import')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('operation', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('created_by', text, (c) => c.notNull())
          .addColumn('created_count', int, (c) => c.notNull())
          .addColumn('updated_count', int, (c) => c.notNull())
          .addColumn('error_count', int, (c) => c.notNull())
          // Where processing got to (batch seq, row in it), so a restart resumes without applying rows twice.
          .addColumn('resume_batch', int, (c) => c.notNull())
          .addColumn('resume_row', int, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('marketing_import_batch')
          .addColumn('import_id', int, (c) => c.notNull())
          .addColumn('seq', int, (c) => c.notNull())
          .addColumn('data', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('marketing_import_batch_pk', ['import_id', 'seq'])
          .execute();
        await db.schema
          .createTable('marketing_import_error')
          .addColumn('id', serial)
          .addColumn('import_id', int, (c) => c.notNull())
          .addColumn('csv', text, (c) => c.notNull())
          .execute();
        await sql`create index marketing_import_error_import on marketing_import_error (import_id, id)`.execute(
          db,
        );
      },
    },
    '003-exports': {
      async up(db) {
        await db.schema
          .createTable('marketing_export')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('request', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('row_count', int, (c) => c.notNull())
          .addColumn('result_count', int, (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('marketing_export_result')
          .addColumn('export_id', int, (c) => c.notNull())
          .addColumn('seq', int, (c) => c.notNull())
          .addColumn('csv', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('marketing_export_result_pk', ['export_id', 'seq'])
          .execute();
      },
    },
    '004-collections': {
      async up(db) {
        // One table per simple v5 collection, from its definition as it stood here: a field added
        // to a definition later needs its own migration.
        for (const def of [CAMPAIGNS, LISTS, LIST_MEMBERSHIPS, TAGS])
          await createCollectionTable(db, def, ['salesforceCampaignId']);
      },
    },
    '005-visitors-and-activities': {
      async up(db) {
        for (const def of [VISITORS, VISITS, VISITOR_ACTIVITIES]) await createCollectionTable(db, def);
        await sql`create index marketing_visitor_activity_prospect on marketing_visitor_activity (unit_id, prospect_id, id)`.execute(
          db,
        );
        await sql`create index marketing_visitor_activity_created on marketing_visitor_activity (unit_id, created_at, id)`.execute(
          db,
        );
      },
    },
    '006-users-and-forms': {
      async up(db) {
        // Users become a readable collection: they gain its bookkeeping columns.
        await db.schema.alterTable('marketing_user').addColumn('updated_at', ts).execute();
        await db.schema
          .alterTable('marketing_user')
          .addColumn('is_deleted', int, (c) => c.notNull().defaultTo(0))
          .execute();
        await sql`update marketing_user set updated_at = created_at`.execute(db);
        for (const def of [FORMS, FORM_HANDLERS, FORM_HANDLER_FIELDS])
          await createCollectionTable(db, def, ['completionActions']);
      },
    },
    '007-settings': {
      async up(db) {
        // Engine-wide settings, such as the key that signs page tokens (shared by every process).
        await db.schema
          .createTable('marketing_setting')
          .addColumn('key', text, (c) => c.primaryKey())
          .addColumn('value', text, (c) => c.notNull())
          .execute();
      },
    },
    '008-accounts-opportunities-tags': {
      async up(db) {
        for (const def of [TAGGED_OBJECTS, PROSPECT_ACCOUNTS, OPPORTUNITIES])
          await createCollectionTable(db, def);
        await db.schema.alterTable('marketing_prospect').addColumn('prospect_account_id', int).execute();
      },
    },
    '009-external-activities': {
      async up(db) {
        await createCollectionTable(db, EXTERNAL_ACTIVITIES);
        await sql`create index marketing_external_activity_prospect on marketing_external_activity (unit_id, prospect_id, id)`.execute(
          db,
        );
      },
    },
    '010-sync-imports': {
      async up(db) {
        // Imports made by the connector (X-Handoff-Actor: sync) also write the CRM ids they match on.
        await sql`alter table marketing_import add column by_sync integer not null default 0`.execute(db);
        // Prospects are found by any of their CRM ids (imports keyed by CRM id, fid lookups).
        await sql`create index marketing_prospect_crm_lead on marketing_prospect (unit_id, salesforce_lead_id)`.execute(
          db,
        );
        await sql`create index marketing_prospect_crm_contact on marketing_prospect (unit_id, salesforce_contact_id)`.execute(
          db,
        );
      },
    },
    '011-tracking-forms-email-automation': {
      async up(db) {
        // Tracking: each unit has a tracker account number (`piAId`, from 1001) and may require
        // visitors' consent before anything is tracked.
        await sql`alter table marketing_business_unit add column tracking_id integer`.execute(db);
        await sql`alter table marketing_business_unit add column require_tracking_consent integer not null default 0`.execute(
          db,
        );
        const units = await sql<{
          id: string;
        }>`select id from marketing_business_unit order by created_at, id`.execute(db);
        for (const [i, unit] of units.rows.entries())
          await sql`update marketing_business_unit set tracking_id = ${1001 + i} where id = ${unit.id}`.execute(
            db,
          );
        for (const def of [FORM_FIELDS, LANDING_PAGES, VISITOR_PAGE_VIEWS, EMAILS, AUTOMATION_RULES])
          await createCollectionTable(db, def);
        await sql`alter table marketing_form add column completion_actions ${text}`.execute(db);
        await sql`alter table marketing_form_handler add column completion_actions ${text}`.execute(db);
        await sql`alter table marketing_prospect add column is_email_hard_bounced ${dialect.columnType('boolean')}`.execute(
          db,
        );
        await sql`alter table marketing_prospect add column email_bounced_at ${ts}`.execute(db);
        await sql`alter table marketing_prospect add column email_bounced_reason ${text}`.execute(db);
        // A visitor's activities, visits and page views move to its prospect when it converts.
        await sql`create index marketing_visitor_activity_visitor on marketing_visitor_activity (unit_id, visitor_id)`.execute(
          db,
        );
        await sql`create index marketing_visit_visitor on marketing_visit (unit_id, visitor_id, id)`.execute(
          db,
        );
        await sql`create index marketing_visitor_page_view_visitor on marketing_visitor_page_view (unit_id, visitor_id)`.execute(
          db,
        );
        await sql`create index marketing_visitor_prospect on marketing_visitor (unit_id, prospect_id)`.execute(
          db,
        );
        // Each recipient of an email: the id in its tracked links, pixel and unsubscribe page.
        await db.schema
          .createTable('marketing_email_recipient')
          .addColumn('token', text, (c) => c.primaryKey())
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('email_id', int, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .execute();
        // The links of a sent email: a click goes only to a URL the email carried (no open redirect).
        await db.schema
          .createTable('marketing_email_link')
          .addColumn('email_id', int, (c) => c.notNull())
          .addColumn('position', int, (c) => c.notNull())
          .addColumn('url', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('marketing_email_link_pk', ['email_id', 'position'])
          .execute();
        // Which rule has acted on which prospect: once each, unless the rule repeats.
        await db.schema
          .createTable('marketing_rule_run')
          .addColumn('rule_id', int, (c) => c.notNull())
          .addColumn('prospect_id', int, (c) => c.notNull())
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('runs', int, (c) => c.notNull())
          // Whether the prospect matched at the last look: a repeatable rule acts again only
          // after the prospect has stopped matching and comes to match again.
          .addColumn('matched', int, (c) => c.notNull())
          .addColumn('last_run_at', ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('marketing_rule_run_pk', ['rule_id', 'prospect_id'])
          .execute();
        // Webhooks to call, written in the transaction of what they announce (an outbox).
        await db.schema
          .createTable('marketing_webhook_delivery')
          .addColumn('id', serial)
          .addColumn('unit_id', text, (c) => c.notNull())
          .addColumn('url', text, (c) => c.notNull())
          .addColumn('secret', text, (c) => c.notNull())
          .addColumn('event', text, (c) => c.notNull())
          .addColumn('payload', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('attempts', int, (c) => c.notNull())
          .addColumn('next_attempt_at', ts, (c) => c.notNull())
          .addColumn('locked_until', ts)
          .addColumn('last_error', text)
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('delivered_at', ts)
          .execute();
        await sql`create index marketing_webhook_delivery_due on marketing_webhook_delivery (status, next_attempt_at)`.execute(
          db,
        );
      },
    },
    '012-list-campaigns': {
      async up(db) {
        // A list may stand for a CRM Campaign: its members and the Campaign's are synced.
        await sql`alter table marketing_list add column salesforce_campaign_id ${text}`.execute(db);
      },
    },
    '013-tracker-domains': {
      async up(db) {
        // The sites whose pages may read the tracker's answers with the visitor's cookies (JSON list).
        await sql`alter table marketing_business_unit add column tracker_domains ${text}`.execute(db);
      },
    },
  };
}
