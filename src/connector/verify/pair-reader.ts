import { prospectOf } from '../../clients/account-engagement/prospect-export.js';
import { syncValue } from '../domain/decide-field.js';
import { DERIVED_PROSPECT_FIELDS, derivedFieldValue, withDerivedFields } from '../domain/derived-fields.js';
import type { CrmObject, FieldMapping } from '../domain/field-mapping.js';
import { sameValue } from '../domain/pair-difference.js';
import type { SharingRule, SyncFields } from '../domain/sync-fields.js';
import * as store from '../store/link-store.js';
import type { VerifyOptions } from './verify-pairs.js';

/**
 * A linked CRM record's columns, kept as one string (values joined by U+0000, which Salesforce
 * cannot store): a million records stay a few hundred MB where objects would take gigabytes.
 */
const SEPARATOR = '\u0000';

/** A linked pair whose values differ on some mapped field: both records, to be looked at. */
export interface DifferingPair {
  link: store.LinkKey;
  record: Record<string, unknown>;
  prospect: Record<string, unknown>;
}

/** What a read of both sides found. */
export interface PairsRead {
  /** When the read began (ISO): a pair the sync saved since then is in flight. */
  since: string;
  /** The links compared (pairs whose deletion was synced are left out). */
  links: store.LinkKey[];
  /** The pairs that differ on a mapped field, with both records. */
  differing: DifferingPair[];
  /** Whether a linked CRM record was read. */
  crmExists(crmId: string): boolean;
  /** Linked CRM records in the recycle bin. */
  recycledCrm: Set<string>;
  /** Linked Leads that were converted, by id: their Contact's id. */
  converted: Map<string, string>;
  /** Linked prospects that were read (live ones). */
  seenProspects: Set<number>;
  /** Linked prospects in the recycle bin. */
  recycledProspects: Set<number>;
  /** Unlinked CRM records (shared, not converted) by lower-case email. */
  unlinkedCrm: Map<string, { object: CrmObject; id: string }>;
  /** Unlinked prospects by lower-case email. */
  unlinkedProspects: Map<string, number>;
}

/**
 * Reads both sides whole and finds the linked pairs that differ on the given mappings. Both
 * sides are read in bulk (a Bulk API 2.0 query job per CRM object, v5 exports for prospects,
 * started first so the unit writes them while the CRM is read), so the cost grows with result
 * pages, not records. Pairs are compared cell by cell as text; only cells that differ as read
 * are normalised (syncValue), and only pairs that still differ become records.
 */
export async function readPairs(
  options: VerifyOptions,
  mappings: Record<CrmObject, FieldMapping[]>,
  fields: SyncFields,
  /** The data-sharing rule the pairs are compared under (the one in force unless given). */
  sharing: SharingRule = options.engine.rules.sharing,
): Promise<PairsRead> {
  const { database, unitId, engine, marketing } = options;
  // Both sides' jobs start first, and the links are read while the servers run them. A pair the
  // sync saves from here on may be read on either side from before that save: it is in flight.
  const since = options.now().toISOString();
  const prospects = await marketing.startProspectExport(fields.prospect(), {
    pollMs: options.pollMs,
    deleted: true,
  });

  // The CRM side: linked records kept to compare (as one string each), unlinked ones by email.
  const columns = {} as Record<CrmObject, string[]>;
  const crmRecords = new Map<string, string>();
  const converted = new Map<string, string>();
  const recycledCrm = new Set<string>();
  const unshared = new Set<string>();
  const unlinkedCrm = new Map<string, { object: CrmObject; id: string }>();
  const jobs = {} as Record<CrmObject, AsyncGenerator<{ columns: string[]; rows: string[][] }>>;
  for (const object of ['Lead', 'Contact'] as const) {
    // A converted Lead is an orphan until the sync moves its link to the Contact.
    const conversion = object === 'Lead' ? ['IsConverted', 'ConvertedContactId'] : [];
    columns[object] = [...new Set([...fields.crm(object), 'IsDeleted', ...conversion])];
    // The recycle bin's too: a linked record deleted is not the same as one purged. Both jobs
    // start now, so the org runs the Contacts' while the Leads are read.
    jobs[object] = await engine.salesforce.startBulkQuery(
      `SELECT ${columns[object].join(', ')} FROM ${object}`,
      { pollMs: options.pollMs, recycleBin: true },
    );
  }
  const links = (await store.selectLinkKeys(database.db, unitId, since)).filter((link) => !link.deleted);
  const byCrmId = new Set(links.map((link) => link.crmId));
  const byProspectId = new Map(links.map((link) => [link.prospectId, link]));
  for (const object of ['Lead', 'Contact'] as const) {
    for await (const page of jobs[object]) {
      const at = (name: string) => page.columns.indexOf(name);
      const order = columns[object].map(at);
      const [id, email, isConverted, contact, isDeleted] = [
        'Id',
        'Email',
        'IsConverted',
        'ConvertedContactId',
        'IsDeleted',
      ].map(at);
      const shared = sharing ? at(sharing.field) : -1;
      const sharedValue = sharing ? syncValue(sharing.value) : null;
      for (const row of page.rows) {
        const crmId = row[id!]!;
        const rowShared = !sharing || syncValue(row[shared]) === sharedValue;
        if (row[isDeleted!] === 'true') {
          if (byCrmId.has(crmId)) recycledCrm.add(crmId);
        } else if (byCrmId.has(crmId)) {
          crmRecords.set(crmId, order.map((i) => row[i] ?? '').join(SEPARATOR));
          if (row[isConverted!] === 'true') converted.set(crmId, row[contact!] ?? '');
          // Outside the sharing rule the sync leaves a pair alone: nothing to compare.
          if (!rowShared) unshared.add(crmId);
        } else if (row[isConverted!] !== 'true' && rowShared) {
          const address = syncValue(row[email!])?.toLowerCase();
          if (address && !unlinkedCrm.has(address)) unlinkedCrm.set(address, { object, id: crmId });
        }
      }
    }
  }
  const recordOf = (object: CrmObject, packed: string): Record<string, string> => {
    const values = packed.split(SEPARATOR);
    return Object.fromEntries(columns[object].map((c, i) => [c, values[i]!]));
  };

  // The marketing side, compared as it streams: as text first, normalised where that differs.
  const seenProspects = new Set<number>();
  const recycledProspects = new Set<number>();
  const unlinkedProspects = new Map<string, number>();
  const differing: DifferingPair[] = [];
  const derive = await engine.deriver();
  for await (const page of prospects) {
    const at = (name: string) => page.columns.indexOf(name);
    // Where each mapped field is on both sides: the CRM record's column, the row's cell.
    const plans = {} as Record<
      CrmObject,
      Array<{ field: string; crm: number; cell: number; derived: boolean }>
    >;
    for (const object of ['Lead', 'Contact'] as const)
      plans[object] = mappings[object]
        .map((m) => ({
          field: m.prospectField,
          crm: columns[object].indexOf(m.crmField),
          cell: at(DERIVED_PROSPECT_FIELDS[m.prospectField] ?? m.prospectField),
          derived: m.prospectField in DERIVED_PROSPECT_FIELDS,
        }))
        // In column order: a packed record is walked once, front to back.
        .sort((a, b) => a.crm - b.crm);
    const [id, email, isDeleted] = [at('id'), at('email'), at('isDeleted')];
    for (const row of page.rows) {
      const prospectId = Number(row[id]);
      const link = byProspectId.get(prospectId);
      if (row[isDeleted] === 'true') {
        if (link) recycledProspects.add(prospectId);
        continue;
      }
      if (!link) {
        const address = syncValue(row[email])?.toLowerCase();
        if (address && !unlinkedProspects.has(address)) unlinkedProspects.set(address, prospectId);
        continue;
      }
      seenProspects.add(prospectId);
      const packed = crmRecords.get(link.crmId);
      if (packed === undefined || converted.has(link.crmId) || unshared.has(link.crmId)) continue;
      // Each mapped column's text is found in the packed record and compared where it lies:
      // a million pairs split into arrays of strings cost more than the rest of the comparing.
      let differs = false;
      let column = 0;
      let start = 0;
      for (const plan of plans[link.crmObject]) {
        // A column the query did not return (first, in this order) compares as empty.
        for (; column < plan.crm; column += 1) start = packed.indexOf(SEPARATOR, start) + 1;
        let end = plan.crm < 0 ? start : packed.indexOf(SEPARATOR, start);
        if (end < 0) end = packed.length;
        const cell = row[plan.cell] ?? '';
        const value = plan.derived ? derivedFieldValue(plan.field, cell, derive) : cell;
        if (
          value === null || value === undefined
            ? end === start
            : end - start === value.length && packed.startsWith(value, start)
        )
          continue;
        if (!sameValue(syncValue(packed.slice(start, end)), syncValue(value))) {
          differs = true;
          break;
        }
      }
      if (differs)
        differing.push({
          link,
          record: recordOf(link.crmObject, packed),
          prospect: withDerivedFields(prospectOf(page.columns, row), derive),
        });
    }
  }

  return {
    since,
    links,
    differing,
    crmExists: (crmId) => crmRecords.has(crmId),
    converted,
    recycledCrm,
    seenProspects,
    recycledProspects,
    unlinkedCrm,
    unlinkedProspects,
  };
}

/** A differing pair with its link's synced state (last synced values, refused values). */
export interface DifferingWithState {
  link: store.Link;
  record: Record<string, unknown>;
  prospect: Record<string, unknown>;
}

/**
 * The differing pairs with their links' synced state, read from the store 500 links a query;
 * a pair relinked since it was read is left out (it is compared next time).
 */
export async function withSyncedState(
  options: Pick<VerifyOptions, 'database' | 'unitId'>,
  differing: readonly DifferingPair[],
): Promise<DifferingWithState[]> {
  if (differing.length === 0) return [];
  const states = await store.selectLinksByProspectIds(
    options.database.db,
    options.unitId,
    differing.map((d) => d.link.prospectId),
  );
  return differing.flatMap(({ link: key, record, prospect }) => {
    const link = states.get(key.prospectId);
    return link && link.crmId === key.crmId ? [{ link, record, prospect }] : [];
  });
}
