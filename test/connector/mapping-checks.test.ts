import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import type { SyncSettings } from '../../src/connector/connector-config.js';
import { runDoctor } from '../../src/connector/doctor.js';
import { DEFAULT_MAPPINGS, type FieldMapping } from '../../src/connector/domain/field-mapping.js';
import { openTestConnector } from '../support/connector.js';
import { TEST_CREDENTIALS } from '../support/crm-server.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

/** The settings with one more mapping on an object. */
function withMapping(
  settings: SyncSettings,
  object: 'Lead' | 'Contact',
  mapping: FieldMapping,
): SyncSettings {
  return {
    ...settings,
    mappings: { ...settings.mappings, [object]: [...settings.mappings[object], mapping] },
  };
}

describe('mappings that cannot work are refused, with the reason on their row', () => {
  let m: TestMarketing;
  let connector: Connector;

  beforeAll(async () => {
    m = await startTestMarketing();
    connector = await openTestConnector(m, m.v3Unit.id);
  });

  afterAll(async () => {
    await m.close();
  });

  const refusals: Array<[string, 'Lead' | 'Contact', FieldMapping, RegExp]> = [
    [
      'a system field',
      'Contact',
      { prospectField: 'department', crmField: 'CreatedDate', direction: 'both', conflict: 'crm' },
      /department → Contact\.CreatedDate: Contact\.CreatedDate is read-only in the CRM/,
    ],
    [
      'a formula field',
      'Lead',
      { prospectField: 'lastName', crmField: 'Name', direction: 'marketing-to-crm', conflict: 'marketing' },
      /Lead\.Name is a formula field/,
    ],
    [
      'text into a number',
      'Lead',
      {
        prospectField: 'jobTitle',
        crmField: 'pi__score__c',
        direction: 'marketing-to-crm',
        conflict: 'marketing',
      },
      /a text value cannot become the CRM field's number/,
    ],
    [
      'text into a date',
      'Lead',
      {
        prospectField: 'jobTitle',
        crmField: 'pi__last_activity__c',
        direction: 'marketing-to-crm',
        conflict: 'marketing',
      },
      /a text value cannot become the CRM field's date/,
    ],
    [
      'a read-only prospect field',
      'Lead',
      { prospectField: 'grade', crmField: 'Rating', direction: 'both', conflict: 'crm' },
      /the prospect field grade is read-only/,
    ],
  ];

  for (const [what, object, mapping, reason] of refusals) {
    it(`refuses ${what}, saving nothing`, async () => {
      const before = connector.settings();
      const problems = await connector.saveSettings(withMapping(before, object, mapping));
      expect(problems).toEqual([
        {
          path: `mappings.${object}.${before.mappings[object].length}`,
          message: expect.stringMatching(reason),
        },
      ]);
      expect(connector.settings()).toEqual(before);
    });
  }

  it('takes a mapping both sides can carry', async () => {
    const before = connector.settings();
    const problems = await connector.saveSettings(
      withMapping(before, 'Lead', {
        prospectField: 'addressOne',
        crmField: 'Street',
        direction: 'both',
        conflict: 'crm',
      }),
    );
    expect(problems).toEqual([]);
    expect(connector.settings().mappings.Lead.at(-1)).toMatchObject({ crmField: 'Street' });
  });

  it('doctor checks the mappings the sync runs with (saved from the console), not only the file', async () => {
    const login = { flow: 'password' as const, loginUrl: m.crm.url, ...TEST_CREDENTIALS };
    const config = { crm: login, marketing: { baseUrl: m.url, businessUnitId: m.v3Unit.id, login } };
    const good = await runDoctor(config, null);
    expect(good.find((c) => c.name === 'Contact mappings')).toMatchObject({ ok: true });
    const saved = {
      ...DEFAULT_MAPPINGS,
      Contact: [
        ...DEFAULT_MAPPINGS.Contact,
        {
          prospectField: 'department',
          crmField: 'CreatedDate',
          direction: 'both' as const,
          conflict: 'crm' as const,
        },
      ],
    };
    const bad = await runDoctor(config, saved);
    expect(bad.find((c) => c.name === 'Contact mappings')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/as saved from the console.*Contact\.CreatedDate is read-only/),
    });
  });
});
