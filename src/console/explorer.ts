import type { ProspectRecord } from '../clients/account-engagement/ae-client.js';
import type { MarketingActivity } from '../clients/account-engagement/ae-client.js';
import { ACTIVITY_ID_FIELD, activityKey } from '../connector/domain/activity-task.js';
import { crmObjectOfId, type CrmObject, type FieldMapping } from '../connector/domain/field-mapping.js';
import type { StoredSyncLogEntry } from '../connector/connector-services.js';
import type { ConsoleBackend } from './console-backend.js';
import { soqlString } from '../clients/salesforce/soql.js';

/** One hit of a search: a prospect, Lead or Contact, and what it is linked to. */
export interface SearchHit {
  kind: 'prospect' | CrmObject;
  id: string;
  name: string;
  email: string | null;
}

/** One mapped field of a pair: both values and the value when last synced. */
export interface PairField {
  prospectField: string;
  crmField: string;
  direction: FieldMapping['direction'];
  conflict: FieldMapping['conflict'];
  prospectValue: unknown;
  crmValue: unknown;
  lastSynced: unknown;
}

export interface CrmTask {
  Id: string;
  Subject: string | null;
  Status: string | null;
  ActivityDate: string | null;
  CreatedDate: string | null;
  [ACTIVITY_ID_FIELD]: string | null;
}

/** A record with its linked pair side by side, its field history, and its activities and Tasks. */
export interface PairView {
  link: {
    crmObject: CrmObject;
    crmId: string;
    prospectId: number;
    deleted: boolean;
    updatedAt?: string;
  } | null;
  prospect: ProspectRecord | null;
  crm: { object: CrmObject; record: Record<string, unknown> } | null;
  fields: PairField[];
  history: StoredSyncLogEntry[];
  activities: Array<MarketingActivity & { taskId: string | null }>;
  tasks: CrmTask[];
}

const PROSPECT_FIELDS = ['id', 'email', 'firstName', 'lastName', 'company', 'score', 'grade', 'assignedToId'];

function nameOf(record: Record<string, unknown>, first: string, last: string): string {
  return [record[first], record[last]].filter((v) => typeof v === 'string' && v !== '').join(' ');
}

/** Finds prospects, Leads and Contacts by id, email or name (the CRM's names; marketing by email and id). */
export async function search(backend: ConsoleBackend, text: string): Promise<SearchHit[]> {
  const q = text.trim();
  if (q === '') return [];
  const { crm, marketing } = backend;
  const hits: SearchHit[] = [];
  const prospectHit = (p: ProspectRecord): SearchHit => ({
    kind: 'prospect',
    id: String(p.id),
    name: nameOf(p, 'firstName', 'lastName'),
    email: typeof p.email === 'string' ? p.email : null,
  });
  if (/^\d+$/.test(q)) {
    const prospect = await marketing.readProspect(Number(q), PROSPECT_FIELDS).catch(() => undefined);
    if (prospect) hits.push(prospectHit(prospect));
    return hits;
  }
  const byId = crmObjectOfId(q);
  const where = byId
    ? `Id = ${soqlString(q)}`
    : q.includes('@')
      ? `Email = ${soqlString(q)}`
      : `FirstName LIKE ${soqlString(`%${q}%`)} OR LastName LIKE ${soqlString(`%${q}%`)}`;
  for (const object of byId ? [byId] : (['Lead', 'Contact'] as const)) {
    const soql = `SELECT Id, FirstName, LastName, Email FROM ${object} WHERE ${where} ORDER BY LastModifiedDate DESC LIMIT 25`;
    const { records } = await crm.query<Record<string, unknown> & { Id: string }>(soql);
    for (const r of records)
      hits.push({
        kind: object,
        id: r.Id,
        name: nameOf(r, 'FirstName', 'LastName'),
        email: typeof r.Email === 'string' ? r.Email : null,
      });
  }
  if (q.includes('@'))
    for (const p of await marketing.prospectsByEmail(q, PROSPECT_FIELDS)) hits.push(prospectHit(p));
  return hits;
}

/** The pair of a prospect id or a CRM id, whichever side it names. Undefined: neither side has it. */
export async function pairView(backend: ConsoleBackend, id: string): Promise<PairView | undefined> {
  const { connector, crm, marketing } = backend;
  const link = await connector.linkOf(id);
  const prospectId = link?.prospectId ?? (/^\d+$/.test(id) ? Number(id) : null);
  const crmId = link?.crmId ?? (crmObjectOfId(id) ? id : null);
  const object: CrmObject = link?.crmObject ?? (crmId ? (crmObjectOfId(crmId) ?? 'Lead') : 'Lead');
  const mappings = connector.settings().mappings[object];

  const prospect =
    prospectId === null
      ? null
      : await marketing
          .readProspect(prospectId, [
            ...new Set([...PROSPECT_FIELDS, ...mappings.map((m) => m.prospectField)]),
          ])
          .catch(() => null);
  const crmRecord = crmId
    ? ((await crm
        .sobject(object)
        .retrieve(crmId)
        .catch(() => null)) as Record<string, unknown> | null)
    : null;
  if (!prospect && !crmRecord) return undefined;

  const tasksOf = async (whoId: string): Promise<CrmTask[]> =>
    (
      await crm.query<CrmTask>(
        `SELECT Id, Subject, Status, ActivityDate, CreatedDate, ${ACTIVITY_ID_FIELD} FROM Task WHERE WhoId = ${soqlString(whoId)} ORDER BY CreatedDate DESC LIMIT 200`,
      )
    ).records;
  const [history, activities, tasks] = await Promise.all([
    connector.syncLog(id),
    prospect ? marketing.prospectActivities(prospect.id) : Promise.resolve([]),
    crmId ? tasksOf(crmId) : Promise.resolve<CrmTask[]>([]),
  ]);
  const { unitId } = backend;
  const taskByKey = new Map(tasks.map((t): [string | null, string] => [t[ACTIVITY_ID_FIELD], t.Id]));
  return {
    link: link
      ? {
          crmObject: link.crmObject,
          crmId: link.crmId,
          prospectId: link.prospectId,
          deleted: link.deleted === true,
          updatedAt: link.updatedAt,
        }
      : null,
    prospect,
    crm: crmRecord ? { object, record: crmRecord } : null,
    fields: mappings.map((m) => ({
      prospectField: m.prospectField,
      crmField: m.crmField,
      direction: m.direction,
      conflict: m.conflict,
      prospectValue: prospect?.[m.prospectField] ?? null,
      crmValue: crmRecord?.[m.crmField] ?? null,
      lastSynced: link?.lastSynced[m.prospectField] ?? null,
    })),
    history,
    activities: activities.map((a) => ({ ...a, taskId: taskByKey.get(activityKey(unitId, a.id)) ?? null })),
    tasks,
  };
}
