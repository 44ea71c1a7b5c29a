import { syncValue } from '../domain/decide-field.js';
import { crmFieldValue } from '../domain/derived-fields.js';
import type { CrmObject } from '../domain/field-mapping.js';
import {
  classifyField,
  DIFFERENCE_CLASSES,
  type Difference,
  type DifferenceClass,
} from '../domain/pair-difference.js';
import * as store from '../store/link-store.js';
import { readPairs, withSyncedState, type DifferingPair, type PairsRead } from './pair-reader.js';
import { callsFrom } from './api-calls.js';
import * as queue from '../store/work-queue.js';
import type { BackfillOptions } from '../backfill.js';

/** What a verify works with: the clients, store and engine a backfill has. */
export type VerifyOptions = Omit<BackfillOptions, 'onProgress' | 'chunkSize'> & {
  /** How often a bulk job's status is asked (default 250 ms). */
  pollMs?: number;
};

/** What a verify found: every difference, and counts by class and by object and field. */
export interface VerifyResult {
  startedAt: string;
  finishedAt: string;
  /** Linked pairs compared (pairs whose deletion was synced are left out). */
  pairs: number;
  differences: Difference[];
  byClass: Record<DifferenceClass, number>;
  /** `Lead.jobTitle` (or `Lead.*` for whole records) → class → count. */
  byField: Record<string, Partial<Record<DifferenceClass, number>>>;
  /** The calls the verify made on each side (counted as sent). */
  calls: { crm: number; marketing: number };
  /** Unlinked CRM records by lower-case email (object and id), for a repair's relinks. */
  unlinkedCrm: Map<string, { object: CrmObject; id: string }>;
}

/** Rows a Bulk query result page and a v5 export file hold, for the estimate. */
const CRM_ROWS_PER_PAGE = 50_000;
const EXPORT_ROWS_PER_FILE = 100_000;

/**
 * What a verify will cost before it runs: per CRM object a query job, its status and a result
 * page per 50,000 records (an estimate: the org sizes its pages); on marketing the oldest
 * prospect's date, an export a year of creation dates, its status, a file per 100,000 rows,
 * and the campaign names.
 */
export function estimateVerifyCalls(counts: {
  links: Record<CrmObject, number>;
  prospects: number;
  years: number;
}): { crm: number; marketing: number } {
  const crm = (['Lead', 'Contact'] as const).reduce(
    (sum, object) => sum + 3 + Math.ceil(counts.links[object] / CRM_ROWS_PER_PAGE),
    0,
  );
  const marketing = 2 + counts.years * 2 + Math.max(1, Math.ceil(counts.prospects / EXPORT_ROWS_PER_FILE));
  return { crm, marketing };
}

/** The cost estimate for this unit, from its links (no API call). */
export async function verifyEstimate(options: VerifyOptions): Promise<{ crm: number; marketing: number }> {
  const links = await store.countLinksByObject(options.database.db, options.unitId);
  return estimateVerifyCalls({ links, prospects: links.Lead + links.Contact, years: 1 });
}

/**
 * Compares every linked pair on every mapped field. Both sides are read in bulk (a Bulk API
 * 2.0 query job per CRM object, v5 exports for prospects, started first so the unit writes them
 * while the CRM is read), so the cost grows with result pages, not records. Pairs are compared
 * as text first; only fields that differ as read are normalised, and only pairs that still
 * differ have their synced state read from the store and each difference classified
 * (domain/pair-difference.ts): pending work and changes newer than the capture cursors are in
 * flight, otherwise the last synced value tells drift from conflict. Links whose record is gone
 * are orphans; an unlinked CRM record and prospect with one email are unlinked duplicates.
 * Nothing is written.
 */
export async function verifyPairs(options: VerifyOptions): Promise<VerifyResult> {
  const { database, unitId, engine, now } = options;
  const startedAt = now().toISOString();
  const calls = callsFrom(options);
  const read = await readPairs(options, engine.mappings, engine.fields);
  const { links, differing, unlinkedCrm, unlinkedProspects } = read;
  const queued = await queue.selectQueuedKeys(database, unitId);
  const differences = await classifyDiffering(options, differing, queued, read.since);
  for (const link of links) differences.push(...orphanOf(link, read, queued));
  for (const [email, id] of unlinkedCrm) {
    const prospectId = unlinkedProspects.get(email);
    if (prospectId === undefined) continue;
    const inFlight = queued.has(`${id.object}:${id.id}`) || queued.has(`prospect:${prospectId}`);
    differences.push({
      class: inFlight ? 'in flight' : 'unlinked duplicate',
      crmObject: id.object,
      crmId: id.id,
      prospectId,
      field: 'email',
      crmField: 'Email',
      crmValue: email,
      marketingValue: email,
      lastSynced: null,
      changed: null,
      note: inFlight ? 'queued: the sync links them by email' : 'same email on both sides, and no link',
    });
  }

  return {
    startedAt,
    finishedAt: now().toISOString(),
    pairs: links.length,
    differences,
    ...counted(differences),
    calls: calls(),
    unlinkedCrm,
  };
}

/**
 * The differences of the pairs that differ, each mapped field classified with the pair's synced
 * state and what the sync has pending (`queued`).
 */
async function classifyDiffering(
  options: VerifyOptions,
  differing: readonly DifferingPair[],
  queued: ReadonlySet<string>,
  /** When the read began: a pair the sync saved since may have been read from before that. */
  since: string,
): Promise<Difference[]> {
  const { database, unitId, engine } = options;
  if (differing.length === 0) return [];
  const cursors = {
    Lead: (await store.selectCursor(database.db, `${unitId}:Lead`)) ?? '',
    Contact: (await store.selectCursor(database.db, `${unitId}:Contact`)) ?? '',
    marketing: (await store.selectCursor(database.db, `${unitId}:marketing`)) ?? '',
  };
  const differences: Difference[] = [];
  for (const { link, record, prospect } of await withSyncedState(options, differing)) {
    const inFlight =
      queued.has(`${link.crmObject}:${link.crmId}`) ||
      queued.has(`prospect:${link.prospectId}`) ||
      (link.updatedAt ?? '') >= since ||
      (syncValue(record.SystemModstamp) ?? '') > cursors[link.crmObject] ||
      (syncValue(prospect.updatedAt) ?? '') > cursors.marketing;
    for (const mapping of engine.mappings[link.crmObject]) {
      const crm = syncValue(crmFieldValue(record, mapping.crmField));
      const value = syncValue(prospect[mapping.prospectField]);
      const lastSynced = link.lastSynced[mapping.prospectField];
      const found = classifyField(
        mapping,
        {
          lastSynced,
          crm,
          marketing: value,
          crmUpdatedAt: syncValue(record.SystemModstamp),
          marketingUpdatedAt: syncValue(prospect.updatedAt),
        },
        { inFlight, refused: link.refused?.[mapping.prospectField] },
      );
      if (!found) continue;
      differences.push({
        ...found,
        crmObject: link.crmObject,
        crmId: link.crmId,
        prospectId: link.prospectId,
        field: mapping.prospectField,
        crmField: mapping.crmField,
        crmValue: crm,
        marketingValue: value,
        lastSynced: lastSynced ?? null,
      });
    }
  }
  return differences;
}

/** A link whose CRM record or prospect is gone (or whose Lead was converted), as a difference. */
function orphanOf(
  link: store.LinkKey,
  read: Pick<PairsRead, 'crmExists' | 'converted' | 'recycledCrm' | 'seenProspects' | 'recycledProspects'>,
  queued: ReadonlySet<string>,
): Difference[] {
  const crmExists = read.crmExists(link.crmId);
  const convertedTo = read.converted.get(link.crmId);
  const prospectLives = read.seenProspects.has(link.prospectId);
  if (crmExists && convertedTo === undefined && prospectLives) return [];
  const inFlight =
    link.savedSince === true ||
    queued.has(`${link.crmObject}:${link.crmId}`) ||
    queued.has(`prospect:${link.prospectId}`);
  const [orphan, note]: [NonNullable<Difference['orphan']>, string] =
    convertedTo !== undefined
      ? ['converted', `the Lead was converted (Contact ${convertedTo || '?'}): the link moves to the Contact`]
      : read.recycledCrm.has(link.crmId)
        ? ['crm deleted', `the ${link.crmObject} is in the recycle bin: the sync follows the deletion`]
        : read.recycledProspects.has(link.prospectId)
          ? ['prospect deleted', 'the prospect is in the recycle bin: the sync follows the deletion']
          : !crmExists && !prospectLives
            ? ['both gone', 'both records are gone for good']
            : !crmExists
              ? ['crm gone', `the ${link.crmObject} is gone for good (purged) while its prospect lives`]
              : ['prospect gone', 'the prospect is gone for good (purged) while its CRM record lives'];
  const changed =
    orphan === 'both gone'
      ? 'both'
      : orphan === 'prospect gone' || orphan === 'prospect deleted'
        ? 'marketing'
        : 'crm';
  return [
    {
      class: inFlight ? 'in flight' : 'orphan',
      crmObject: link.crmObject,
      crmId: link.crmId,
      prospectId: link.prospectId,
      field: null,
      crmField: null,
      crmValue: null,
      marketingValue: null,
      lastSynced: null,
      changed,
      orphan,
      note,
    },
  ];
}

function counted(differences: readonly Difference[]): Pick<VerifyResult, 'byClass' | 'byField'> {
  const byClass = Object.fromEntries(DIFFERENCE_CLASSES.map((c) => [c, 0])) as Record<
    DifferenceClass,
    number
  >;
  const byField: VerifyResult['byField'] = {};
  for (const d of differences) {
    byClass[d.class] += 1;
    const key = `${d.crmObject}.${d.field ?? '*'}`;
    const row = (byField[key] ??= {});
    row[d.class] = (row[d.class] ?? 0) + 1;
  }
  return { byClass, byField };
}
