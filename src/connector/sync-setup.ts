import { SalesforceClient } from '../clients/salesforce/salesforce-client.js';
import { appendSyncLog, type SyncLogEntry } from './store/sync-log.js';
import type { CrmFieldType } from './domain/crm-value.js';
import {
  checkMappings,
  type CrmFieldFacts,
  type CrmObject,
  type FieldMapping,
  type MappingProblem,
  type ProspectFieldFacts,
} from './domain/field-mapping.js';
import { readCrmFieldFacts, readProspectFieldFacts } from './field-facts.js';
import type { ProspectRecord } from '../clients/account-engagement/ae-client.js';
import { withDerivedFields, type Deriver } from './domain/derived-fields.js';

/** An unknown campaign re-reads the names at most this often. */
const CAMPAIGN_REREAD_MS = 60_000;
import { SyncFields } from './domain/sync-fields.js';
import type { SyncEngineOptions, SyncRules } from './sync-types.js';

/** Settings checked against both sides: the usable mappings, and what is wrong and where. */
export interface CheckedSettings {
  mappings: Record<CrmObject, FieldMapping[]>;
  problems: Array<{ path: string; message: string }>;
}

/**
 * What every part of the sync reads: the clients and store (`options`), and the mappings and
 * rules in force — checked against both sides, and swapped as a whole when the console saves
 * new ones, so a pass never sees half of an edit.
 */
export class SyncSetup {
  private current: {
    configured: Record<CrmObject, FieldMapping[]>;
    rules: SyncRules;
    mappings: Record<CrmObject, FieldMapping[]>;
    fields: SyncFields;
  };
  /** The CRM's reads and writes (records by id, API usage, Bulk jobs). */
  readonly salesforce: SalesforceClient;
  /** The unit's campaign names by id, and when they were read (ms). */
  private campaigns: { names: Map<number, string>; readAt: number } = {
    names: new Map(),
    readAt: Number.NEGATIVE_INFINITY,
  };

  private constructor(
    readonly options: SyncEngineOptions,
    /** Each CRM object's fields by type, from describe. */
    readonly crmTypes: Record<CrmObject, Map<string, CrmFieldType>>,
    /** Each CRM object's fields as a mapping's check needs them. */
    readonly crmFields: Record<CrmObject, Map<string, CrmFieldFacts>>,
    checked: Record<CrmObject, FieldMapping[]>,
    /** What was wrong with the configured mappings (those are left out). */
    public problems: MappingProblem[],
  ) {
    this.salesforce = new SalesforceClient(options.crm);
    this.current = {
      configured: options.mappings,
      rules: options.rules,
      mappings: checked,
      fields: new SyncFields(checked, options.rules.sharing),
    };
  }

  /** Reads both sides' fields (describe, custom fields) and keeps the mappings both can carry. */
  static async open(options: SyncEngineOptions): Promise<SyncSetup> {
    const prospectFields = await readProspectFieldFacts(options.marketing);
    const { crm, crmTypes } = await readCrmFieldFacts(options.crm);
    const { mappings, problems, rulesProblem } = checkAll(
      options.mappings,
      options.rules,
      crm,
      prospectFields,
    );
    if (rulesProblem) throw new Error(rulesProblem);
    for (const problem of problems) options.log.warn(`mapping skipped: ${problem.message}`);
    return new SyncSetup(options, crmTypes, crm, mappings, problems);
  }

  /**
   * New mappings and rules from the next pass on, checked against both sides first: with a
   * problem nothing changes and the problems are returned.
   */
  async reconfigure(
    mappings: Record<CrmObject, FieldMapping[]>,
    rules: SyncRules,
  ): Promise<Array<{ path: string; message: string }>> {
    const checked = await this.check(mappings, rules);
    if (checked.problems.length > 0) return checked.problems;
    this.current = {
      configured: mappings,
      rules,
      mappings: checked.mappings,
      fields: new SyncFields(checked.mappings, rules.sharing),
    };
    this.problems = [];
    return [];
  }

  /**
   * Mappings and rules checked against both sides' fields, without putting them in force: the
   * usable mappings, and what is wrong, each with where (`mappings.Lead.3`).
   */
  async check(mappings: Record<CrmObject, FieldMapping[]>, rules: SyncRules): Promise<CheckedSettings> {
    const prospectFields = await readProspectFieldFacts(this.options.marketing);
    const checked = checkAll(mappings, rules, this.crmFields, prospectFields);
    return {
      mappings: checked.mappings,
      problems: [
        ...checked.problems.map((p) => ({ path: `mappings.${p.object}.${p.index}`, message: p.message })),
        ...(checked.rulesProblem ? [{ path: 'rules.sharing.field', message: checked.rulesProblem }] : []),
      ],
    };
  }

  /** The mappings in force: those that passed the check. */
  get mappings(): Record<CrmObject, FieldMapping[]> {
    return this.current.mappings;
  }

  get rules(): SyncRules {
    return this.current.rules;
  }

  /** The field lists each read asks for. */
  get fields(): SyncFields {
    return this.current.fields;
  }

  /** The mappings and rules as configured (before the check dropped unusable mappings). */
  get configured(): { mappings: Record<CrmObject, FieldMapping[]>; rules: SyncRules } {
    return { mappings: this.current.configured, rules: this.current.rules };
  }

  /**
   * The prospect with the fields the connector derives (its campaign's name, its URL). Campaign
   * names are read once and again only when an unknown campaign turns up (at most a minute
   * apart), so most pairs cost no call.
   */
  async derive<T extends ProspectRecord>(prospect: T): Promise<T & { campaign: string | null; url: string }> {
    const campaignId = typeof prospect.campaignId === 'number' ? prospect.campaignId : null;
    if (campaignId !== null && !this.campaigns.names.has(campaignId)) await this.readCampaigns();
    return withDerivedFields(prospect, this.deriverNow());
  }

  /**
   * Derives for a read of every prospect at once: the campaign names read once, then derived
   * without a call (derived-fields.ts `derivedFieldValue`).
   */
  async deriver(): Promise<Deriver> {
    await this.readCampaigns(true);
    return this.deriverNow();
  }

  /** Reads the campaign names again, unless they were read within the last minute. */
  private async readCampaigns(evenIfRecent = false): Promise<void> {
    const at = this.options.now().getTime();
    if (!evenIfRecent && at - this.campaigns.readAt < CAMPAIGN_REREAD_MS) return;
    this.campaigns = { names: await this.options.marketing.campaignNames(), readAt: at };
  }

  private deriverNow(): Deriver {
    const names = this.campaigns.names;
    return {
      campaignName: (id) => names.get(id) ?? null,
      prospectUrl: this.options.prospectUrl ?? ((id) => `prospect/read?id=${id}`),
    };
  }

  /** Appends to the sync log, stamped now. */
  async log(entries: SyncLogEntry[]): Promise<void> {
    await appendSyncLog(
      this.options.database,
      this.options.unitId,
      entries,
      this.options.now().toISOString(),
    );
  }
}

/** The mappings both sides can carry, and what is wrong with the rest and with the rules. */
export function checkAll(
  configured: Record<CrmObject, FieldMapping[]>,
  rules: SyncRules,
  crmFields: Record<CrmObject, Map<string, CrmFieldFacts>>,
  prospectFields: ReadonlyMap<string, ProspectFieldFacts>,
): {
  mappings: Record<CrmObject, FieldMapping[]>;
  problems: Array<MappingProblem & { object: CrmObject }>;
  rulesProblem?: string;
} {
  const mappings = {} as Record<CrmObject, FieldMapping[]>;
  const problems: Array<MappingProblem & { object: CrmObject }> = [];
  for (const object of ['Lead', 'Contact'] as const) {
    const checked = checkMappings(object, configured[object], crmFields[object], prospectFields);
    mappings[object] = rules.followEmailChanges === false ? unfollowEmail(checked.usable) : checked.usable;
    problems.push(...checked.problems.map((p) => ({ ...p, object })));
  }
  const sharing = rules.sharing;
  if (sharing) {
    for (const object of ['Lead', 'Contact'] as const) {
      if (!crmFields[object].has(sharing.field)) {
        return {
          mappings,
          problems,
          rulesProblem: `the data-sharing field ${sharing.field} does not exist on ${object} in the CRM`,
        };
      }
    }
  }
  return { mappings, problems };
}

/** The mappings without the CRM → marketing direction of the email. */
function unfollowEmail(mappings: FieldMapping[]): FieldMapping[] {
  return mappings.flatMap((m) => {
    if (m.prospectField !== 'email') return [m];
    if (m.direction === 'crm-to-marketing') return [];
    return [{ ...m, direction: 'marketing-to-crm' as const }];
  });
}
