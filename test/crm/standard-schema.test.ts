import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

interface FactObject {
  fields: Array<{ name: string; type: string; nullable: boolean }>;
  children: Record<string, string | null>;
}
const facts = JSON.parse(
  readFileSync(new URL('../../src/crm/domain/schema/standard-schema.json', import.meta.url), 'utf8'),
) as Record<string, FactObject>;

/** Which of the CRM's field types each TypeScript type of jsforce's schema allows. */
const COMPATIBLE: Record<string, string[]> = {
  string: ['id', 'reference', 'string', 'textarea', 'email', 'phone', 'url', 'picklist'],
  boolean: ['boolean'],
  number: ['int', 'double', 'currency', 'percent'],
  DateString: ['date', 'datetime'],
};

describe('the standard schema, against jsforce’s standard-schema.d.ts', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm();
  });

  afterAll(async () => {
    await crm.close();
  });

  it('keeps its fact file as jsforce’s schema types say', async () => {
    const check = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, ['scripts/standard-schema.mjs', '--check'], (error, _stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stderr }),
      ),
    );
    expect(check.code, check.stderr).toBe(0);
  });

  it('describes every standard field of each object it serves, with a compatible type', async () => {
    // The fact file covers exactly the objects the CRM serves (scripts/standard-schema.mjs names
    // them too): an object added to one and not the other would go uncompleted.
    const global = (await crm.call('/sobjects', 'GET')).body as { sobjects: Array<{ name: string }> };
    expect(global.sobjects.map((o) => o.name).sort()).toEqual(Object.keys(facts).sort());
    for (const [object, fact] of Object.entries(facts)) {
      const described = (await crm.call(`/sobjects/${object}/describe`, 'GET')).body as {
        fields: Array<{ name: string; type: string }>;
      };
      const types = new Map(described.fields.map((f) => [f.name, f.type]));
      // Compound fields (BillingAddress, a Location) are views of their stored parts.
      const stored = fact.fields.filter((f) => f.type !== 'Address' && f.type !== 'Location');
      const missing = stored.filter((f) => !types.has(f.name)).map((f) => f.name);
      expect(missing, object).toEqual([]);
      const clashes = stored
        .filter((f) => !(COMPATIBLE[f.type] ?? []).includes(types.get(f.name) ?? ''))
        .map((f) => `${f.name}: ${f.type} as ${types.get(f.name)}`);
      expect(clashes, object).toEqual([]);
    }
  });

  it('names only child relationships Salesforce has', async () => {
    for (const [object, fact] of Object.entries(facts)) {
      const described = (await crm.call(`/sobjects/${object}/describe`, 'GET')).body as {
        childRelationships: Array<{ relationshipName: string; childSObject: string }>;
      };
      for (const r of described.childRelationships) {
        expect(fact.children[r.relationshipName], `${object}.${r.relationshipName}`).toBe(r.childSObject);
      }
    }
    const account = (await crm.call('/sobjects/Account/describe', 'GET')).body as {
      childRelationships: Array<{ relationshipName: string }>;
    };
    expect(account.childRelationships.map((r) => r.relationshipName)).toEqual(
      expect.arrayContaining(['Contacts', 'Opportunities', 'Cases', 'ChildAccounts', 'Tasks', 'Events']),
    );
  });
});
