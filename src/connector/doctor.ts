import type jsforce from 'jsforce';
import { connectCrm } from '../clients/salesforce/crm-connection.js';
import { SalesforceClient } from '../clients/salesforce/salesforce-client.js';
import {
  checkMappings,
  DEFAULT_MAPPINGS,
  type CrmFieldFacts,
  type CrmObject,
  type FieldMapping,
  type ProspectFieldFacts,
} from './domain/field-mapping.js';
import { crmFieldFacts, readProspectFieldFacts } from './field-facts.js';
import { ACTIVITY_ID_FIELD } from './domain/activity-task.js';
import { connectMarketing, type ConnectorConfig } from './connector-services.js';

export interface DoctorCheck {
  /** What was checked, as a user would name it. */
  name: string;
  ok: boolean;
  /** What was found, or what is wrong and what to do. */
  detail: string;
}

/**
 * `handoff doctor`: checks what the connector needs, one thing at a time, and says plainly
 * what is wrong — both logins, the CRM objects and rights it uses, the marketing unit, each
 * mapping against both sides' fields, the data-sharing field, and the CRM API budget. Checks
 * that depend on a failed one are skipped rather than failing with a second, vaguer message.
 */
export async function runDoctor(
  config: ConnectorConfig,
  /** The mappings saved from the console, which the sync runs with instead of the configured ones. */
  saved: Record<CrmObject, FieldMapping[]> | null = null,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  let crm: jsforce.Connection | null = null;
  try {
    crm = await connectCrm(config.crm);
    const identity = await crm.identity();
    check('CRM login', true, `${config.crm.flow} login to ${crm.instanceUrl} as ${identity.username}`);
  } catch (error) {
    check('CRM login', false, `${config.crm.flow} login to ${config.crm.loginUrl} failed: ${message(error)}`);
  }

  const crmFields = new Map<CrmObject, Map<string, CrmFieldFacts>>();
  if (crm) {
    for (const object of ['Lead', 'Contact'] as const) {
      try {
        const describe = await crm.sobject(object).describe();
        crmFields.set(object, crmFieldFacts(object, describe.fields));
        const missing = [
          !describe.queryable && 'read',
          !describe.createable && 'create',
          !describe.updateable && 'edit',
          !describe.deletable && 'delete',
        ].filter(Boolean);
        check(
          `CRM ${object} rights`,
          missing.length === 0,
          missing.length === 0
            ? 'read, create, edit and delete'
            : `the connector's user cannot ${missing.join(', ')} ${object}s: grant it in its profile or permission set`,
        );
      } catch (error) {
        check(`CRM ${object} rights`, false, `describe ${object} failed: ${message(error)}`);
      }
    }
    try {
      const { used, limit: Max } = await new SalesforceClient(crm).apiUsage({ fresh: true });
      const share = config.crmApiShare ?? 0.8;
      check(
        'CRM API budget',
        used < share * Max,
        `${used} of ${Max} daily requests used; the connector waits from ${Math.round(share * 100)} %` +
          (used >= share * Max
            ? ': it is waiting now (raise connector.crmApiShare or wait for tomorrow)'
            : ''),
      );
    } catch (error) {
      check('CRM API budget', false, `reading /limits failed: ${message(error)}`);
    }
    if (config.activities?.enabled !== false) {
      // Activities become Tasks upserted on this field: without it, every Task write fails.
      try {
        const task = await crm.sobject('Task').describe();
        const field = task.fields.find((f) => f.name === ACTIVITY_ID_FIELD);
        check(
          'CRM Task activity id',
          Boolean(field?.externalId && field.unique),
          field
            ? field.externalId && field.unique
              ? `Task.${ACTIVITY_ID_FIELD} is a unique external id: activities become Tasks`
              : `Task.${ACTIVITY_ID_FIELD} must be marked External ID and Unique`
            : `Task has no ${ACTIVITY_ID_FIELD}: create it (Text(80), External ID, Unique), or set connector.activities.enabled to false`,
        );
      } catch (error) {
        check('CRM Task activity id', false, `describe Task failed: ${message(error)}`);
      }
    }
  }

  let prospectFields: Map<string, ProspectFieldFacts> | null = null;
  try {
    const marketing = connectMarketing(config, { maxAttempts: 1 });
    prospectFields = await readProspectFieldFacts(marketing);
    check(
      'marketing unit',
      true,
      `business unit ${config.marketing.businessUnitId} at ${config.marketing.baseUrl} (${prospectFields.size} prospect fields)`,
    );
  } catch (error) {
    check(
      'marketing unit',
      false,
      `business unit ${config.marketing.businessUnitId} at ${config.marketing.baseUrl}: ${message(error)}`,
    );
  }

  if (prospectFields) {
    for (const object of ['Lead', 'Contact'] as const) {
      const fields = crmFields.get(object);
      if (!fields) continue;
      // The mappings the sync runs with: the console's saved ones stand over the configuration.
      const mappings = saved?.[object] ?? config.mappings?.[object] ?? DEFAULT_MAPPINGS[object];
      const { usable, problems } = checkMappings(object, mappings, fields, prospectFields);
      check(
        `${object} mappings`,
        problems.length === 0,
        [
          `${usable.length} of ${mappings.length} usable${saved ? ' (as saved from the console)' : ''}`,
          ...problems.map((p) => p.message),
        ].join('; '),
      );
    }
  }
  const sharing = config.rules?.sharing;
  if (sharing) {
    for (const [object, fields] of crmFields) {
      check(
        `data sharing on ${object}`,
        fields.has(sharing.field),
        fields.has(sharing.field)
          ? `only ${object}s with ${sharing.field} = ${sharing.value} sync`
          : `${object} has no field ${sharing.field}: create it or change rules.sharing`,
      );
    }
  }
  return checks;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
