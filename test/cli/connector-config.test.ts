import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/cli/config.js';
import { mergeMappings } from '../../src/connector/connector-config.js';
import { DEFAULT_MAPPINGS } from '../../src/connector/domain/field-mapping.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function withConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-config-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'handoff.config.json'), JSON.stringify(config));
  return dir;
}

describe('the connector’s settings in handoff.config.json', () => {
  it('changes a default mapping and adds one, keeping the other defaults, and reads the rules', () => {
    const dir = withConfig({
      connector: {
        mappings: {
          Lead: [
            { prospectField: 'jobTitle', crmField: 'Title', direction: 'crm-to-marketing' },
            { prospectField: 'Favorite_Color__c', crmField: 'Favorite_Color__c', conflict: 'latest' },
          ],
        },
        rules: { createLeads: 'never', sharing: { field: 'LeadSource', value: 'Web' } },
      },
    });
    const config = resolveConfig({}, {}, dir);
    const lead = mergeMappings(config.connector?.mappings).Lead;
    expect(lead.find((m) => m.prospectField === 'jobTitle')).toEqual({
      prospectField: 'jobTitle',
      crmField: 'Title',
      direction: 'crm-to-marketing',
      conflict: 'crm',
    });
    expect(lead.filter((m) => m.prospectField === 'jobTitle')).toHaveLength(1);
    expect(lead.find((m) => m.prospectField === 'Favorite_Color__c')).toMatchObject({
      direction: 'both',
      conflict: 'latest',
    });
    expect(lead).toHaveLength(DEFAULT_MAPPINGS.Lead.length + 1);
    expect(mergeMappings(config.connector?.mappings).Contact).toEqual(DEFAULT_MAPPINGS.Contact);
    expect(config.connector?.rules).toEqual({
      createLeads: 'never',
      sharing: { field: 'LeadSource', value: 'Web' },
    });
  });

  it('refuses a bad direction or policy with a message naming the setting', () => {
    const dir = withConfig({
      connector: {
        mappings: { Lead: [{ prospectField: 'phone', crmField: 'Phone', direction: 'sideways' }] },
      },
    });
    expect(() => resolveConfig({}, {}, dir)).toThrow(ConfigError);
    expect(() => resolveConfig({}, {}, dir)).toThrow(/connector\.mappings\.Lead\.0\.direction/);
    const policy = withConfig({ connector: { rules: { createLeads: 'always' } } });
    expect(() => resolveConfig({}, {}, policy)).toThrow(/connector\.rules\.createLeads/);
  });
});
