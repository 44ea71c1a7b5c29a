import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type { DailyCountStore } from '../../store/daily-counter.js';
import type { StoreDialect } from '../../store/store-dialect.js';
import type { BusinessUnit, CustomField, UnitSettings } from '../domain/business-unit.js';
import { encryptSecret, resolveSecret, SecretError } from '../../store/sealed-secrets.js';

type Row = Record<string, unknown>;

function unitFromRow(row: Row): BusinessUnit {
  return {
    id: String(row.id),
    name: String(row.name),
    active: Number(row.active) === 1,
    allowMultiplePerEmail: Number(row.allow_multiple_per_email) === 1,
    dailyApiLimit: Number(row.daily_api_limit),
    timeZone: String(row.time_zone),
    trackingId: Number(row.tracking_id),
    requireTrackingConsent: Number(row.require_tracking_consent) === 1,
    trackerDomains: trackerDomainsOf(row.tracker_domains),
    createdAt: String(row.created_at),
  };
}

function trackerDomainsOf(raw: unknown): string[] {
  if (typeof raw !== 'string' || raw === '') return [];
  const parsed = JSON.parse(raw) as unknown;
  return Array.isArray(parsed) ? parsed.filter((d): d is string => typeof d === 'string') : [];
}

export async function insertUnit(db: StoreDb, unit: BusinessUnit): Promise<void> {
  await sql`insert into marketing_business_unit (id, name, active, allow_multiple_per_email, daily_api_limit, time_zone, created_at,
      tracking_id, require_tracking_consent, tracker_domains)
    values (${unit.id}, ${unit.name}, ${unit.active ? 1 : 0}, ${unit.allowMultiplePerEmail ? 1 : 0},
      ${unit.dailyApiLimit}, ${unit.timeZone}, ${unit.createdAt}, ${unit.trackingId}, ${unit.requireTrackingConsent ? 1 : 0},
      ${JSON.stringify(unit.trackerDomains)})`.execute(db);
}

/** The next tracker account number: one past the highest (1001 for the first unit). */
export async function nextTrackingId(db: StoreDb): Promise<number> {
  const r = await sql<{
    top: number | string | null;
  }>`select max(tracking_id) as top from marketing_business_unit`.execute(db);
  return Math.max(1000, Number(r.rows[0]?.top ?? 1000)) + 1;
}

export async function updateUnitSettings(db: StoreDb, id: string, settings: UnitSettings): Promise<void> {
  await sql`update marketing_business_unit set active = ${settings.active ? 1 : 0},
    tracker_domains = ${JSON.stringify(settings.trackerDomains)},
    require_tracking_consent = ${settings.requireTrackingConsent ? 1 : 0},
    allow_multiple_per_email = ${settings.allowMultiplePerEmail ? 1 : 0},
    daily_api_limit = ${settings.dailyApiLimit}, time_zone = ${settings.timeZone} where id = ${id}`.execute(
    db,
  );
}

export async function selectUnits(db: StoreDb): Promise<BusinessUnit[]> {
  const r = await sql<Row>`select * from marketing_business_unit order by created_at, id`.execute(db);
  return r.rows.map(unitFromRow);
}

export async function insertUser(
  db: StoreDb,
  user: {
    unitId: string;
    crmUserId: string;
    email: string;
    firstName: string | null;
    lastName: string | null;
    role: string;
    createdAt: string;
  },
): Promise<void> {
  await sql`insert into marketing_user (unit_id, crm_user_id, email, first_name, last_name, role, created_at, updated_at, is_deleted)
    values (${user.unitId}, ${user.crmUserId}, ${user.email}, ${user.firstName}, ${user.lastName}, ${user.role},
      ${user.createdAt}, ${user.createdAt}, 0)`.execute(db);
}

/** The marketing user id of a CRM user in a unit, or undefined when the user has no access there. */
export async function selectUserId(
  db: StoreDb,
  unitId: string,
  crmUserId: string,
): Promise<number | undefined> {
  const r = await sql<{ id: number | string }>`select id from marketing_user
    where unit_id = ${unitId} and crm_user_id = ${crmUserId}`.execute(db);
  return r.rows[0] ? Number(r.rows[0].id) : undefined;
}

export function unitUsageStore(db: StoreDb, unitId: string): DailyCountStore {
  return {
    async load(day) {
      const r = await sql<{ used: number | string }>`select used from marketing_api_usage
        where unit_id = ${unitId} and day = ${day}`.execute(db);
      return Number(r.rows[0]?.used ?? 0);
    },
    async save(day, used) {
      await sql`insert into marketing_api_usage (unit_id, day, used) values (${unitId}, ${day}, ${used})
        on conflict (unit_id, day) do update set used = excluded.used`.execute(db);
    },
  };
}

function customFieldFromRow(row: Row): CustomField {
  return {
    id: Number(row.id),
    name: String(row.name),
    fieldId: String(row.field_id),
    type: row.type as CustomField['type'],
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

export async function insertCustomField(
  db: StoreDb,
  unitId: string,
  field: Omit<CustomField, 'id'>,
): Promise<number> {
  const r = await sql<{
    id: number | string;
  }>`insert into marketing_custom_field (unit_id, name, field_id, type, created_at, updated_at)
    values (${unitId}, ${field.name}, ${field.fieldId}, ${field.type}, ${field.createdAt}, ${field.updatedAt}) returning id`.execute(
    db,
  );
  return Number(r.rows[0]?.id);
}

export async function selectCustomFields(db: StoreDb, unitId: string): Promise<CustomField[]> {
  const r =
    await sql<Row>`select * from marketing_custom_field where unit_id = ${unitId} order by id`.execute(db);
  return r.rows.map(customFieldFromRow);
}

export async function selectCustomFieldByFieldId(
  db: StoreDb,
  dialect: StoreDialect,
  unitId: string,
  fieldId: string,
): Promise<CustomField | undefined> {
  const r = await sql<Row>`select * from marketing_custom_field
    where unit_id = ${unitId} and ${dialect.ciEquals(sql.ref('field_id'), fieldId)}`.execute(db);
  return r.rows[0] ? customFieldFromRow(r.rows[0]) : undefined;
}

export async function userExists(db: StoreDb, unitId: string, userId: number): Promise<boolean> {
  const r = await sql<{ id: number | string }>`select id from marketing_user
    where unit_id = ${unitId} and id = ${userId}`.execute(db);
  return r.rows.length > 0;
}

export async function isAdministrator(db: StoreDb, crmUserId: string, unitId: string): Promise<boolean> {
  const r = await sql<{ id: number | string }>`select id from marketing_user
    where crm_user_id = ${crmUserId} and unit_id = ${unitId} and role = 'Administrator' limit 1`.execute(db);
  return r.rows.length > 0;
}

/** A setting, created with `initial` by whichever process asks first (the others then read it). */
export async function settingOrCreate(db: StoreDb, key: string, initial: string): Promise<string> {
  await sql`insert into marketing_setting (key, value) values (${key}, ${initial})
    on conflict (key) do nothing`.execute(db);
  const r = await sql<{ value: string }>`select value from marketing_setting where key = ${key}`.execute(db);
  return r.rows[0]?.value ?? initial;
}

/**
 * A secret setting (a signing key), sealed at rest with the deployment's key when there is one:
 * a copy of the database alone does not give it away. A plain value from before is sealed on
 * first read. A value sealed under another key is refused with a message saying which key to use.
 */
export async function secretSettingOrCreate(
  db: StoreDb,
  key: string,
  initial: string,
  sealKey: (() => Buffer) | undefined,
): Promise<string> {
  const stored = await settingOrCreate(db, key, sealKey ? encryptSecret(initial, sealKey()) : initial);
  if (stored.startsWith('enc:')) {
    if (!sealKey)
      throw new SecretError(
        `the setting ${key} is sealed: start with the data dir (or HANDOFF_SECRET_KEY) that sealed it`,
      );
    try {
      return resolveSecret(stored, sealKey);
    } catch (error) {
      throw new SecretError(
        `the setting ${key} was sealed with another key: set HANDOFF_SECRET_KEY to the key of the deployment's first process (its data dir's secret.key) — ${(error as Error).message}`,
      );
    }
  }
  if (sealKey) await saveSetting(db, key, encryptSecret(stored, sealKey()));
  return stored;
}

export async function saveSetting(db: StoreDb, key: string, value: string): Promise<void> {
  await sql`insert into marketing_setting (key, value) values (${key}, ${value})
    on conflict (key) do update set value = ${value}`.execute(db);
}
