import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../store/database.js';
import type { ActivityView } from '../domain/schema/activity-objects.js';
import { DELETED_AT_COLUMN } from './record-tables.js';

/**
 * The views ActivityHistory and OpenActivity are read from: Tasks and Events in the columns the
 * two objects declare (activity-objects.ts). History is closed Tasks and Events that have ended;
 * open is the rest. "Ended" is judged when a query runs, by the database's clock.
 */

/** Now, as the ISO-8601 UTC text timestamps are stored in. */
function nowText(database: Database): RawBuilder<string> {
  return database.dialect.name === 'sqlite'
    ? sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
    : sql`to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The Account an activity counts toward: its What when an Account, else its Who's or What's Account. */
function accountOf(alias: string): RawBuilder<string> {
  const who = sql.ref(`${alias}.WhoId`);
  const what = sql.ref(`${alias}.WhatId`);
  return sql`coalesce(
    case when substr(${what}, 1, 3) = '001' then ${what} end,
    (select c."AccountId" from crm_contact c where c."Id" = ${who}),
    (select o."AccountId" from crm_opportunity o where o."Id" = ${what}))`;
}

function common(alias: string): RawBuilder<unknown> {
  const column = (name: string) => sql.ref(`${alias}.${name}`);
  return sql.join(
    [
      ...['Id', 'IsDeleted', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById'].map(
        column,
      ),
      ...['SystemModstamp', 'OwnerId', 'WhoId', 'WhatId', 'Subject', 'ActivityDate', 'Description'].map(
        column,
      ),
      sql`${accountOf(alias)} as "AccountId"`,
      sql`${column(DELETED_AT_COLUMN)} as ${sql.ref(DELETED_AT_COLUMN)}`,
    ],
    sql`, `,
  );
}

function viewQuery(database: Database, view: ActivityView): RawBuilder<unknown> {
  const ended = sql`coalesce(e."EndDateTime", e."ActivityDateTime", e."StartDateTime", e."ActivityDate" || 'T23:59:59.999Z') < ${nowText(database)}`;
  const history = view === 'ActivityHistory';
  return sql`
    select ${common('t')}, 1 as "IsTask", null as "ActivityDateTime", null as "EndDateTime",
      null as "DurationInMinutes", 0 as "IsAllDayEvent", t."Status" as "Status",
      t."Priority" as "Priority", t."Type" as "ActivityType", t."IsClosed" as "IsClosed",
      null as "Location"
    from crm_task t
    where ${history ? sql`t."IsClosed" = 1` : sql`coalesce(t."IsClosed", 0) = 0`}
    union all
    select ${common('e')}, 0 as "IsTask", e."ActivityDateTime" as "ActivityDateTime",
      e."EndDateTime" as "EndDateTime", e."DurationInMinutes" as "DurationInMinutes",
      e."IsAllDayEvent" as "IsAllDayEvent", null as "Status", null as "Priority",
      e."Type" as "ActivityType", ${history ? sql`1` : sql`0`} as "IsClosed", e."Location" as "Location"
    from crm_event e
    where ${history ? ended : sql`not (${ended})`}`;
}

/** Arbitrary, fixed: orders the view (re)creation of CRM processes starting together on PostgreSQL. */
const VIEW_LOCK = 0x43524d56;

/** (Re)creates the activity views over the Task and Event tables (call once those exist). */
export async function syncActivityViews(database: Database, views: readonly ActivityView[]): Promise<void> {
  const { db, dialect } = database;
  await db.transaction().execute(async (trx) => {
    await dialect.transactionLock(VIEW_LOCK)?.execute(trx);
    for (const view of views) {
      const name = sql.table(`crm_${view.toLowerCase()}`);
      if (dialect.name === 'sqlite') {
        await sql`drop view if exists ${name}`.execute(trx);
        await sql`create view ${name} as ${viewQuery(database, view)}`.execute(trx);
      } else {
        await sql`create or replace view ${name} as ${viewQuery(database, view)}`.execute(trx);
      }
    }
  });
}
