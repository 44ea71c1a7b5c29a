import type { ProspectRecord } from '../../clients/account-engagement/ae-client.js';
import { planPair } from '../domain/pair-plan.js';
import * as store from '../store/link-store.js';
import type { SyncLogEntry } from '../store/sync-log.js';
import type { SyncSetup } from '../sync-setup.js';
import type { CrmRecord, PassResult } from '../sync-types.js';
import type { CrmWriter } from './crm-writer.js';

/**
 * Brings one linked pair into agreement: the plan (domain/pair-plan.ts) decides every mapped
 * field; the prospect is updated at once, the CRM update joins the writer's batch (the link
 * is saved with the batch's answer), and a pair with nothing for the CRM is saved now.
 */
export class PairSync {
  constructor(
    private readonly setup: SyncSetup,
    private readonly writer: CrmWriter,
  ) {}

  async reconcile(
    link: store.Link,
    record: CrmRecord,
    prospect: ProspectRecord,
    result: PassResult,
    /** The work item the pair is worked for (null for a backfill's pairs). */
    itemKey: string | null,
  ): Promise<void> {
    const { marketing, database, now } = this.setup.options;
    const plan = planPair(
      this.setup.mappings[link.crmObject],
      this.setup.crmTypes[link.crmObject],
      link,
      record,
      await this.setup.derive(prospect),
    );
    const logged = (toSide: 'crm' | 'marketing', apiCall: string): SyncLogEntry[] =>
      plan.changes
        .filter((change) => change.toSide === toSide)
        .map((change) => ({
          crmObject: link.crmObject,
          crmId: link.crmId,
          prospectId: link.prospectId,
          ...change,
          apiCall,
        }));
    if (Object.keys(plan.toMarketing).length > 0) {
      await marketing.updateProspect(link.prospectId, plan.toMarketing);
      result.writesToMarketing += 1;
      await this.setup.log(logged('marketing', `PATCH /api/v5/objects/prospects/${link.prospectId}`));
    }
    if (Object.keys(plan.toCrm).length > 0) {
      this.writer.add(link.crmObject, {
        itemKey,
        link,
        values: plan.toCrm,
        lastSynced: plan.lastSynced,
        refusedState: plan.crmRefusedState,
        refusedValues: plan.toCrmByField,
        stillRefused: plan.refused,
        person: personOf(record, prospect),
        // The call is known once the batch goes out (Collections or Bulk).
        log: logged('crm', ''),
      });
      return;
    }
    const at = now().toISOString();
    await store.saveLink(database.db, { ...link, lastSynced: plan.lastSynced, refused: plan.refused }, at);
    // What the CRM refused has settled another way (the value changed back, the CRM's won).
    if (Object.keys(link.refused ?? {}).length > 0 && Object.keys(plan.refused).length === 0)
      await store.resolveSyncErrors(database.db, link.unitId, [link.crmId], at);
  }
}

/** Whom a pair is about, for the sync-error list: the CRM record's name, either side's email. */
export function personOf(
  record: Record<string, unknown>,
  prospect: Record<string, unknown> | null,
): { name: string | null; email: string | null } {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null);
  const name =
    text(record.Name) ??
    ([text(record.FirstName), text(record.LastName)].filter(Boolean).join(' ') ||
      [text(prospect?.firstName), text(prospect?.lastName)].filter(Boolean).join(' ') ||
      null);
  return { name, email: text(record.Email) ?? text(prospect?.email) };
}
