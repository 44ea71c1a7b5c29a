import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildLead } from '../support/factories.js';

describe('lead assignment and system fields', () => {
  let crm: TestCrm;
  const reps: string[] = [];

  beforeAll(async () => {
    crm = await startTestCrm({ config: { leadAssignment: 'round-robin' } });
    for (const name of ['Rep One', 'Rep Two']) {
      const [first, last] = name.split(' ');
      const r = await crm.api('/sobjects/User', {
        method: 'POST',
        body: JSON.stringify({
          FirstName: first,
          LastName: last,
          Username: `${last}@test.handoff`,
          Email: `${last}@test.handoff`,
        }),
      });
      reps.push(((await r.json()) as { id: string }).id);
    }
  });

  afterAll(async () => {
    await crm.close();
  });

  const createLead = async (headers: Record<string, string> = {}, body = buildLead()) => {
    const r = await crm.api('/sobjects/Lead', { method: 'POST', body: JSON.stringify(body), headers });
    const { id } = (await r.json()) as { id: string };
    const read = await crm.api(`/sobjects/Lead/${id}?fields=OwnerId,CreatedById,LastModifiedById`);
    return (await read.json()) as { OwnerId: string; CreatedById: string; LastModifiedById: string };
  };

  it('assigns new leads round robin over the active users when the caller does not opt out', async () => {
    const owners = [];
    for (let i = 0; i < 6; i++) owners.push((await createLead()).OwnerId);
    const everyone = [crm.adminUserId, ...reps];
    expect(new Set(owners)).toEqual(new Set(everyone));
    expect(owners.slice(0, 3)).toEqual(owners.slice(3, 6));
  });

  it('keeps the caller as owner when it sends Sforce-Auto-Assign: FALSE', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await createLead({ 'Sforce-Auto-Assign': 'false' })).OwnerId).toBe(crm.adminUserId);
    }
  });

  it('skips inactive users', async () => {
    const deactivate = await crm.api(`/sobjects/User/${reps[1]}`, {
      method: 'PATCH',
      body: JSON.stringify({ IsActive: false }),
    });
    expect(deactivate.status).toBe(204);
    const owners = new Set<string>();
    for (let i = 0; i < 4; i++) owners.add((await createLead()).OwnerId);
    expect(owners).toEqual(new Set([crm.adminUserId, reps[0]]));
  });

  it('records the calling user as creator and last modifier', async () => {
    const lead = await createLead({ 'Sforce-Auto-Assign': 'FALSE' });
    expect(lead.CreatedById).toBe(crm.adminUserId);
    expect(lead.LastModifiedById).toBe(crm.adminUserId);
  });
});
