import { HandoffError, isHandoffError } from '../errors/handoff-error.js';
import type { CallContext } from './domain/call-context.js';
import { keyPrefixOf, normalizeId } from './domain/record-id.js';
import type { ObjectDef } from './domain/schema/field-def.js';
import type { RecordService } from './record-service.js';
import type { UnitOfWork } from '../store/unit-of-work.js';

export interface MergeRequest {
  /** The survivor: its type and Id, and any field values to set on it. */
  masterRecord: Record<string, unknown>;
  recordToMergeIds: string[];
}

export interface MergeResult {
  id: string | null;
  mergedRecordIds: string[];
  updatedRelatedIds: string[];
  success: boolean;
  errors: HandoffError[];
}

/** The records that follow a merged record to its survivor: child object and its reference field. */
const RELATED: Record<string, Array<[string, string]>> = {
  Lead: [
    ['Task', 'WhoId'],
    ['CampaignMember', 'LeadId'],
  ],
  Contact: [
    ['Task', 'WhoId'],
    ['CampaignMember', 'ContactId'],
    ['Opportunity', 'ContactId'],
  ],
  Account: [
    ['Contact', 'AccountId'],
    ['Opportunity', 'AccountId'],
    ['Task', 'WhatId'],
    ['Account', 'ParentId'],
  ],
};

// Salesforce merges up to three records at once: the master and two more.
const MAX_MERGED = 2;

/**
 * SOAP `merge` for Leads, Contacts and Accounts: the master takes the given field values, the
 * losers' related records move to it, and the losers go to the recycle bin with
 * `MasterRecordId` set. Each request is all or nothing.
 */
export class MergeService {
  constructor(
    private readonly records: RecordService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async merge(ctx: CallContext, requests: MergeRequest[]): Promise<MergeResult[]> {
    const results: MergeResult[] = [];
    for (const request of requests) {
      try {
        results.push(await this.unitOfWork.run(() => this.mergeOne(ctx, request)));
      } catch (error) {
        if (!isHandoffError(error)) throw error;
        const id = typeof request.masterRecord.Id === 'string' ? request.masterRecord.Id : null;
        results.push({ id, mergedRecordIds: [], updatedRelatedIds: [], success: false, errors: [error] });
      }
    }
    return results;
  }

  private async mergeOne(ctx: CallContext, request: MergeRequest): Promise<MergeResult> {
    const { type, Id, ...fields } = request.masterRecord;
    const def = this.records.objectDefForType(typeof type === 'string' ? type : '');
    if (!RELATED[def.name]) {
      throw new HandoffError('INVALID_TYPE', `Merge is not supported for sObject type '${def.name}'.`);
    }
    const masterId = this.idOf(def, Id);
    const loserIds = [...new Set(request.recordToMergeIds.map((raw) => this.idOf(def, raw)))];
    if (loserIds.length === 0 || loserIds.length > MAX_MERGED) {
      throw new HandoffError(
        'INVALID_OPERATION',
        `A merge request must name one or two records to merge; it named ${loserIds.length}.`,
      );
    }
    if (loserIds.includes(masterId)) {
      throw new HandoffError('INVALID_OPERATION', 'The master record cannot also be a record to merge.');
    }
    const found = await this.records.retrieveMany(def.name, [masterId, ...loserIds]);
    found.forEach((record, i) => {
      if (!record) throw new HandoffError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
      if (record.IsDeleted === true)
        throw new HandoffError('ENTITY_IS_DELETED', `entity is deleted: ${[masterId, ...loserIds][i]}`);
    });

    if (Object.keys(fields).length > 0) {
      const [updated] = await this.records.updateMany(
        ctx,
        [{ type: def.name, id: masterId, input: fields }],
        true,
      );
      if (!updated?.success)
        throw updated?.errors[0] ?? new HandoffError('UNKNOWN_EXCEPTION', 'update failed');
    }

    const updatedRelatedIds: string[] = [];
    for (const [childType, field] of RELATED[def.name] ?? []) {
      const childDef = this.records.objectDefForType(childType);
      if (!childDef.fields.some((f) => f.name === field)) continue;
      for (const loserId of loserIds) {
        for (const childId of await this.records.idsReferencing(childType, field, loserId)) {
          await this.records.systemUpdate(ctx, childType, childId, { [field]: masterId });
          updatedRelatedIds.push(childId);
        }
      }
    }

    const deleted = await this.records.deleteMany(ctx, loserIds, true, { masterRecordId: masterId });
    const failure = deleted.find((r) => !r.success);
    if (failure) throw failure.errors[0] ?? new HandoffError('UNKNOWN_EXCEPTION', 'delete failed');
    return { id: masterId, mergedRecordIds: loserIds, updatedRelatedIds, success: true, errors: [] };
  }

  private idOf(def: ObjectDef, raw: unknown): string {
    const id = typeof raw === 'string' ? normalizeId(raw) : null;
    if (!id || keyPrefixOf(id) !== def.keyPrefix) {
      throw new HandoffError('MALFORMED_ID', `${def.label} ID: id value of incorrect type: ${String(raw)}`);
    }
    return id;
  }
}
