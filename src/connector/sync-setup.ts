import { STANDARD_PROSPECT_FIELDS } from '../clients/account-engagement/prospect-fields.js';
import { SalesforceClient } from '../clients/salesforce/salesforce-client.js';
import { appendSyncLog, type SyncLogEntry } from './store/sync-log.js';
import { crmFieldType, type CrmFieldType } from './domain/crm-value.js';
import {
  checkMappings,
  type CrmObject,
  type FieldMapping,
  type MappingProblem,
} from './domain/field-mapping.js';
import { SyncFields } from './domain/sync-fields.js';
import type { SyncEngineOptions, SyncRules } from './sync-types.js';

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

  private constructor(
    readonly options: SyncEngineOptions,
    /** Each CRM object's fields by type, from describe. */
    readonly crmTypes: Record<CrmObject, Map<string, CrmFieldType>>,
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
    const prospectFields = await options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    const types = {} as Record<CrmObject, Map<string, CrmFieldType>>;
    for (const object of ['Lead', 'Contact'] as const) {
      const describe = await options.crm.sobject(object).describe();
      types[object] = new Map(describe.fields.map((f) => [f.name, crmFieldType(f.type)]));
    }
    const { mappings, problems, rulesProblem } = checkAll(
      options.mappings,
      options.rules,
      types,
      prospectFields,
    );
    if (rulesProblem) throw new Error(rulesProblem);
    for (const problem of problems) options.log.warn(`mapping skipped: ${problem.message}`);
    return new SyncSetup(options, types, mappings, problems);
  }

  /**
   * New mappings and rules from the next pass on, checked against both sides first: with a
   * problem nothing changes and the problems are returned.
   */
  async reconfigure(mappings: Record<CrmObject, FieldMapping[]>, rules: SyncRules): Promise<string[]> {
    const prospectFields = await this.options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    const checked = checkAll(mappings, rules, this.crmTypes, prospectFields);
    const problems = [
      ...checked.problems.map((p) => p.message),
      ...(checked.rulesProblem ? [checked.rulesProblem] : []),
    ];
    if (problems.length > 0) return problems;
    this.current = {
      configured: mappings,
      rules,
      mappings: checked.mappings,
      fields: new SyncFields(checked.mappings, rules.sharing),
    };
    this.problems = [];
    return [];
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
function checkAll(
  configured: Record<CrmObject, FieldMapping[]>,
  rules: SyncRules,
  types: Record<CrmObject, Map<string, CrmFieldType>>,
  prospectFields: ReadonlySet<string>,
): { mappings: Record<CrmObject, FieldMapping[]>; problems: MappingProblem[]; rulesProblem?: string } {
  const mappings = {} as Record<CrmObject, FieldMapping[]>;
  const problems: MappingProblem[] = [];
  for (const object of ['Lead', 'Contact'] as const) {
    const checked = checkMappings(object, configured[object], new Set(types[object].keys()), prospectFields);
    mappings[object] = rules.followEmailChanges === false ? unfollowEmail(checked.usable) : checked.usable;
    problems.push(...checked.problems);
  }
  const sharing = rules.sharing;
  if (sharing) {
    for (const object of ['Lead', 'Contact'] as const) {
      if (!types[object].has(sharing.field)) {
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
