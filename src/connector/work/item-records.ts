import pMap from 'p-map';
import type { ProspectRecord } from '../../clients/account-engagement/ae-client.js';
import { syncValue } from '../domain/decide-field.js';
import type { CrmObject } from '../domain/field-mapping.js';
import * as store from '../store/link-store.js';
import type * as queue from '../store/work-queue.js';
import type { SyncSetup } from '../sync-setup.js';
import { ITEM_CONCURRENCY, type CrmRecord } from '../sync-types.js';

/**
 * The records a batch of work items is decided on, read in as few calls as the wire allows:
 * the copy captured with the item where it is still current, the rest 200 ids a query (CRM) or
 * one call a prospect (marketing, five at a time at most).
 */
export class ItemRecords {
  constructor(private readonly setup: SyncSetup) {}

  /**
   * The CRM records of the items: as captured, unless the item has no copy (a retry) or we
   * saved its pair after the copy was taken — then it may predate our own write, and deciding
   * on it would send an old value back; those are read again, with the recycle bin.
   */
  async forCrmItems(items: readonly queue.WorkItem[]): Promise<Map<string, CrmRecord>> {
    const { database, unitId } = this.setup.options;
    const found = new Map<string, CrmRecord>();
    const reread: Record<CrmObject, string[]> = { Lead: [], Contact: [] };
    for (const item of items) {
      const [object, id] = item.key.split(':') as [CrmObject, string];
      const copy = item.payload as CrmRecord | null;
      const link = copy ? await store.selectLinkByCrmId(database.db, unitId, id) : undefined;
      if (copy && !(link?.updatedAt && link.updatedAt > (syncValue(copy.SystemModstamp) ?? ''))) {
        found.set(id, copy);
      } else {
        reread[object].push(id);
      }
    }
    for (const object of ['Lead', 'Contact'] as const) {
      for (const record of await this.read(object, reread[object], true)) found.set(record.Id, record);
    }
    return found;
  }

  /**
   * The prospects of the items (by item key): as captured, or read again on the same grounds as
   * CRM records. A read that fails is returned with its reason, for its item to be tried again.
   */
  async forProspectItems(items: readonly queue.WorkItem[]): Promise<{
    found: Map<string, ProspectRecord>;
    failed: Array<{ item: queue.WorkItem; error: unknown }>;
  }> {
    const { database, unitId, marketing } = this.setup.options;
    const found = new Map<string, ProspectRecord>();
    const failed: Array<{ item: queue.WorkItem; error: unknown }> = [];
    const reread: queue.WorkItem[] = [];
    for (const item of items) {
      const id = Number(item.key.slice('prospect:'.length));
      const copy = item.payload as ProspectRecord | null;
      const link = copy ? await store.selectLinkByProspect(database.db, unitId, id) : undefined;
      if (copy && !(link?.updatedAt && link.updatedAt > (syncValue(copy.updatedAt) ?? ''))) {
        found.set(item.key, copy);
      } else {
        reread.push(item);
      }
    }
    await pMap(
      reread,
      async (item) => {
        try {
          const id = Number(item.key.slice('prospect:'.length));
          found.set(item.key, await marketing.readProspect(id, this.setup.fields.prospect()));
        } catch (error) {
          failed.push({ item, error });
        }
      },
      { concurrency: ITEM_CONCURRENCY },
    );
    return { found, failed };
  }

  /** The CRM records of these links, by id (a record missing from the map is gone). */
  async forLinks(links: ReadonlyArray<store.Link | undefined>): Promise<Map<string, CrmRecord>> {
    const ids: Record<CrmObject, string[]> = { Lead: [], Contact: [] };
    for (const link of links) if (link) ids[link.crmObject].push(link.crmId);
    const found = new Map<string, CrmRecord>();
    for (const object of ['Lead', 'Contact'] as const)
      for (const record of await this.read(object, ids[object], false)) found.set(record.Id, record);
    return found;
  }

  /** CRM records of one object by id, with their mapped fields (a record missing is gone). */
  async many(object: CrmObject, ids: readonly string[]): Promise<Map<string, CrmRecord>> {
    const found = new Map<string, CrmRecord>();
    for (const record of await this.read(object, [...ids], false)) found.set(record.Id, record);
    return found;
  }

  /** One CRM record by id, with its mapped fields (undefined when it is gone). */
  async one(object: CrmObject, id: string): Promise<CrmRecord | undefined> {
    return (await this.read(object, [id], false))[0];
  }

  /**
   * CRM records by id, 200 ids a query; with `recycleBin`, deleted ones too (queryAll) and the
   * fields capture reads, so they can be worked as if captured.
   */
  private read(object: CrmObject, ids: string[], recycleBin: boolean): Promise<CrmRecord[]> {
    const fields = recycleBin ? this.setup.fields.crmCapture(object) : this.setup.fields.crm(object);
    return this.setup.salesforce.recordsById<CrmRecord>(object, fields, ids, { recycleBin });
  }
}
