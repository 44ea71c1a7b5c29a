// The Jest example of docs/testing.md: ES modules, run with Node's --experimental-vm-modules.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startHandoff } from 'handoff/testing';

describe('sign-up', () => {
  let h;
  beforeAll(async () => {
    h = await startHandoff();
  });
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  it('creates a Lead that the sync turns into a prospect', async () => {
    const conn = await h.crm.connect();
    await conn
      .sobject('Lead')
      .create({ Email: 'ada@analytical.example', LastName: 'Lovelace', Company: 'Analytical' });
    await h.sync();
    const response = await fetch(
      `${h.marketing.url}/api/v5/objects/prospects?fields=lastName,company&email=ada@analytical.example`,
      { headers: await h.marketing.headers() },
    );
    expect((await response.json()).values).toEqual([{ lastName: 'Lovelace', company: 'Analytical' }]);
  });
});
