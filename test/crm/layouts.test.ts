import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

describe('layouts described from the schema', () => {
  let crm: TestCrm;
  let conn: jsforce.Connection;

  beforeAll(async () => {
    crm = await startTestCrm();
    conn = await crm.connect();
  });

  afterAll(async () => {
    await crm.close();
  });

  it('describes an object’s page layout with its fields and related lists, as jsforce’s layouts() reads it', async () => {
    const res = (await conn.sobject('Account').layouts()) as unknown as {
      layouts: Array<{
        id: string | null;
        detailLayoutSections: Array<{
          layoutRows: Array<{
            layoutItems: Array<{ required: boolean; layoutComponents: Array<{ value: string }> }>;
          }>;
        }>;
        editLayoutSections: unknown[];
        quickActionList: { quickActionListItems: unknown[] };
        relatedLists: Array<{ name: string; sobject: string }>;
        buttonLayoutSection: object;
      }>;
      recordTypeMappings: unknown[];
      recordTypeSelectorRequired: unknown[];
    };
    expect(res.recordTypeMappings).toEqual([]);
    expect(res.recordTypeSelectorRequired).toEqual([false]);
    const [layout] = res.layouts;
    expect(layout).toMatchObject({
      id: null,
      buttonLayoutSection: {},
      quickActionList: { quickActionListItems: [] },
    });
    const items = layout!.detailLayoutSections.flatMap((s) => s.layoutRows.flatMap((r) => r.layoutItems));
    expect(items.find((i) => i.layoutComponents[0]?.value === 'Name')).toMatchObject({ required: true });
    expect(items.find((i) => i.layoutComponents[0]?.value === 'Phone')).toMatchObject({ required: false });
    expect(layout!.editLayoutSections.length).toBe(1);
    expect(layout!.relatedLists.map((r) => r.name)).toContain('Contacts');

    const named = (await conn.sobject('User').layouts('UserAlt')) as unknown as { layouts: unknown[] };
    expect(named.layouts).toHaveLength(1);
  });

  it('describes the compact layout and answers no approval layouts', async () => {
    const compact = (await conn.sobject('Lead').compactLayouts()) as unknown as {
      compactLayouts: Array<{
        id: string | null;
        objectType: string;
        actions: unknown[];
        fieldItems: Array<{ label: string }>;
      }>;
      defaultCompactLayoutId: string | null;
      recordTypeCompactLayoutMappings: unknown[];
    };
    expect(compact.compactLayouts[0]).toMatchObject({ id: null, objectType: 'Lead', actions: [] });
    expect(compact.compactLayouts[0]!.fieldItems.map((f) => f.label)).toContain('Email');
    expect(compact.defaultCompactLayoutId).toBeNull();
    expect(compact.recordTypeCompactLayoutMappings).toEqual([]);
    const approval = (await conn.sobject('Account').approvalLayouts()) as unknown as {
      approvalLayouts: unknown[];
    };
    expect(approval.approvalLayouts).toEqual([]);
    const unknown = await crm.api('/sobjects/Nope__c/describe/layouts');
    expect(unknown.status).toBe(404);
  });
});
