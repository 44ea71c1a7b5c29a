import { HandoffError, isHandoffError } from '../errors/handoff-error.js';
import type { CallContext } from './domain/call-context.js';
import {
  accountFromLead,
  contactFromLead,
  contactUpdateFromLead,
  CONVERTED_STATUSES,
  opportunityFromLead,
  type LeadConvertRequest,
} from './domain/lead-conversion.js';
import { keyPrefixOf, normalizeId } from './domain/record-id.js';
import type { RecordValues } from './domain/schema/field-def.js';
import type { SaveResult } from './domain/save-result.js';
import type { RecordService } from './record-service.js';
import type { UnitOfWork } from '../store/unit-of-work.js';

export interface LeadConvertResult {
  leadId: string | null;
  accountId: string | null;
  contactId: string | null;
  opportunityId: string | null;
  success: boolean;
  errors: HandoffError[];
}

function requireSaved(result: SaveResult | undefined): string {
  if (!result?.success || !result.id)
    throw result?.errors[0] ?? new HandoffError('UNKNOWN_EXCEPTION', 'write failed');
  return result.id;
}

/**
 * Lead conversion as Salesforce does it: the Lead becomes an Account (new or given), a Contact
 * (new or merged into the given one) and, unless asked not to, an Opportunity; its open Tasks
 * and campaign memberships follow the Contact; and the Lead is marked converted and read-only.
 * Each conversion is all or nothing.
 */
export class LeadConversionService {
  constructor(
    private readonly records: RecordService,
    private readonly unitOfWork: UnitOfWork,
    private readonly now: () => Date,
  ) {}

  async convert(ctx: CallContext, requests: LeadConvertRequest[]): Promise<LeadConvertResult[]> {
    const results: LeadConvertResult[] = [];
    for (const request of requests) {
      try {
        results.push(await this.unitOfWork.run(() => this.convertOne(ctx, request)));
      } catch (error) {
        if (!isHandoffError(error)) throw error;
        results.push({
          leadId: request.leadId,
          accountId: null,
          contactId: null,
          opportunityId: null,
          success: false,
          errors: [error],
        });
      }
    }
    return results;
  }

  private reference(raw: string | null, prefix: string, label: string): string | null {
    if (raw === null || raw === '') return null;
    const id = normalizeId(raw);
    if (!id || keyPrefixOf(id) !== prefix)
      throw new HandoffError('MALFORMED_ID', `${label}: id value of incorrect type: ${raw}`);
    return id;
  }

  private async convertOne(ctx: CallContext, request: LeadConvertRequest): Promise<LeadConvertResult> {
    // Conversion is not lead creation: assignment rules never run for it.
    const system: CallContext = { ...ctx, autoAssign: false };
    if (!request.convertedStatus) {
      throw new HandoffError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ConvertedStatus]', {
        fields: ['ConvertedStatus'],
      });
    }
    if (!CONVERTED_STATUSES.has(request.convertedStatus)) {
      throw new HandoffError('INVALID_STATUS', `invalid convertedStatus: ${request.convertedStatus}`);
    }
    const leadId = this.reference(request.leadId, '00Q', 'Lead ID');
    if (!leadId)
      throw new HandoffError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [LeadId]', {
        fields: ['LeadId'],
      });
    let accountId = this.reference(request.accountId, '001', 'Account ID');
    const givenContactId = this.reference(request.contactId, '003', 'Contact ID');
    if (givenContactId && !accountId) {
      throw new HandoffError('INVALID_INPUT', 'an accountId is required when a contactId is given');
    }

    const lead = await this.liveRecord('Lead', leadId);
    if (lead.IsConverted === true)
      throw new HandoffError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead');
    const ownerId = this.reference(request.ownerId, '005', 'Owner ID') ?? String(lead.OwnerId);

    if (accountId) {
      await this.liveRecord('Account', accountId);
    } else {
      accountId = requireSaved(
        (
          await this.records.createMany(
            system,
            [{ type: 'Account', input: accountFromLead(lead, ownerId) }],
            true,
          )
        )[0],
      );
    }

    let contactId: string;
    if (givenContactId) {
      const contact = await this.liveRecord('Contact', givenContactId);
      const changes = contactUpdateFromLead(lead, contact, request.overwriteLeadSource);
      if (Object.keys(changes).length > 0)
        await this.records.update(system, 'Contact', givenContactId, changes);
      contactId = givenContactId;
    } else {
      contactId = requireSaved(
        (
          await this.records.createMany(
            system,
            [{ type: 'Contact', input: contactFromLead(lead, accountId, ownerId) }],
            true,
          )
        )[0],
      );
    }

    let opportunityId: string | null = null;
    if (!request.doNotCreateOpportunity) {
      const input = opportunityFromLead(lead, accountId, ownerId, request.opportunityName, this.now());
      opportunityId = requireSaved(
        (await this.records.createMany(system, [{ type: 'Opportunity', input }], true))[0],
      );
    }

    await this.moveActivities(system, leadId, contactId);
    await this.records.systemUpdate(system, 'Lead', leadId, {
      IsConverted: true,
      ConvertedDate: this.now().toISOString().slice(0, 10),
      ConvertedAccountId: accountId,
      ConvertedContactId: contactId,
      ConvertedOpportunityId: opportunityId,
      Status: request.convertedStatus,
    });
    return { leadId, accountId, contactId, opportunityId, success: true, errors: [] };
  }

  private async liveRecord(type: string, id: string): Promise<RecordValues> {
    const [record] = await this.records.retrieveMany(type, [id]);
    if (!record) throw new HandoffError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${id}`);
    return record;
  }

  /** Open Tasks now concern the Contact; campaign memberships gain it too. */
  private async moveActivities(ctx: CallContext, leadId: string, contactId: string): Promise<void> {
    const taskIds = await this.records.idsReferencing('Task', 'WhoId', leadId);
    const tasks = await this.records.retrieveMany('Task', taskIds);
    const open = tasks.filter((t): t is RecordValues => t !== null && t.IsClosed !== true);
    if (open.length > 0) {
      const results = await this.records.updateMany(
        ctx,
        open.map((t) => ({ type: 'Task', id: t.Id, input: { WhoId: contactId } })),
        true,
      );
      results.forEach(requireSaved);
    }
    for (const memberId of await this.records.idsReferencing('CampaignMember', 'LeadId', leadId)) {
      await this.records.systemUpdate(ctx, 'CampaignMember', memberId, { ContactId: contactId });
    }
  }
}
