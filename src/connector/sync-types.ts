/**
 * The types the connector's modules share (capture, work, write and the engine that runs them),
 * in one place so that none of them imports another for a type.
 */
import type jsforce from 'jsforce';
import type { Logger } from 'pino';
import type { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import type { Database } from '../store/database.js';
import type { ActivitySettings } from './domain/activity-task.js';
import type { CrmObject, FieldMapping } from './domain/field-mapping.js';
import type { CreateLeadsRule } from './domain/record-lifecycle.js';

export interface SyncRules {
  /** Make a prospect for a new Lead or Contact with an email (not for records older than the connector). */
  createProspects: boolean;
  /**
   * Make a CRM Lead for a prospect without one: once it is assigned to a user (the default), once
   * it submits a form or form handler successfully, or never.
   */
  createLeads: CreateLeadsRule;
  /**
   * A CRM email change updates the linked prospect's email (the default). Off, the prospect
   * keeps its address; marketing's own email changes still reach the CRM where mapped so.
   */
  followEmailChanges?: boolean;
  /**
   * Marketing data sharing: only CRM records whose field has this value sync (a Lead the
   * connector makes gets it). Records outside it are left alone, linked or not.
   */
  sharing?: { field: string; value: string } | null;
  /**
   * A record sent to the recycle bin on one side sends its pair there too (the default). Off,
   * deletions stay on the side they were made on.
   */
  followDeletions?: boolean;
}

export interface PassResult {
  /** The sync is paused: the pass did nothing. */
  paused?: boolean;
  crmRecords: number;
  prospects: number;
  /** What the CRM poll found (queued): changed Leads and Contacts, not echoes of the sync's writes. */
  crmChanges: number;
  /** What the marketing poll found (queued): changed prospects, form successes and activities. */
  marketingChanges: number;
  /** Work items queued by this pass's capture (changes that are not echoes of our writes). */
  queued: number;
  /** Work items this pass completed. */
  worked: number;
  /** Work items left in the queue after the pass (waiting out a retry, or for the next pass). */
  waiting?: number;
  /** A side's API budget for the connector is spent: the pass waited and did nothing. */
  throttled?: 'crm' | 'marketing';
  /** Prospects made for new CRM records. */
  created: number;
  /** Leads made for assigned prospects. */
  leadsCreated: number;
  /** Prospects moved to a converted Lead's Contact. */
  relinked: number;
  /** Records sent to (or brought back from) a recycle bin to follow the other side. */
  deletions: number;
  undeletions: number;
  writesToCrm: number;
  writesToMarketing: number;
  errors: Array<{ side: 'crm' | 'marketing'; record: string; message: string }>;
  /** The API calls the pass made on each side. */
  calls?: { crm: number; marketing: number };
  /** How long the pass took. */
  ms?: number;
}

export function emptyPassResult(): PassResult {
  return {
    crmRecords: 0,
    prospects: 0,
    crmChanges: 0,
    marketingChanges: 0,
    queued: 0,
    worked: 0,
    created: 0,
    leadsCreated: 0,
    relinked: 0,
    deletions: 0,
    undeletions: 0,
    writesToCrm: 0,
    writesToMarketing: 0,
    errors: [],
  };
}

export type CrmRecord = Record<string, unknown> & { Id: string; SystemModstamp?: string };

export interface SyncEngineOptions {
  database: Database;
  crm: jsforce.Connection;
  marketing: AccountEngagementClient;
  unitId: string;
  mappings: Record<CrmObject, FieldMapping[]>;
  rules: SyncRules;
  now: () => Date;
  log: Logger;
  /** The first retry's delay; each later one doubles it (default 1 s, capped at 5 minutes). */
  retryBaseMs?: number;
  /** The longest wait between tries (default 5 minutes). */
  retryMaxMs?: number;
  /** How long leased work is held before another process may take it over (default 30 s). */
  leaseMs?: number;
  /**
   * The share (0–1) of the org's daily API requests past which the connector waits, leaving the
   * rest to the org's other clients (default 0.8). Read from each answer's Sforce-Limit-Info.
   */
  crmApiShare?: number;
  /** Which activities become CRM Tasks, and their subjects (`connector.activities`). */
  activities?: Partial<ActivitySettings>;
  /**
   * The business unit's daily API limit and the connector's share of it (default 25,000 — the
   * smallest edition's — and 20 %), counted across every connector process in the store.
   */
  marketingApi?: { dailyLimit?: number; share?: number };
  /** A prospect's page in the marketing engine (the CRM's `pi__url__c`). */
  prospectUrl?: (id: number) => string;
}

/** sObject Collections take at most 200 records a call; id lists are read 200 a query too. */
export const COLLECTION_SIZE = 200;
/** Items worked at once: under the marketing API's five concurrent calls a unit. */
export const ITEM_CONCURRENCY = 4;
