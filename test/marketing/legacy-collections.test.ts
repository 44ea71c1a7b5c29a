import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`v3/v4 list, listMembership, campaign and user (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });

    afterAll(async () => {
      await m.close();
    });

    const legacy = async (path: string, params: Record<string, string> = {}, unit = m.v4Unit.id) => {
      const r = await m.call(`/api/${path}`, {
        method: 'POST',
        body: new URLSearchParams({ format: 'json', ...params }),
        unit,
      });
      return r.body as Json;
    };

    it('creates, reads, updates, queries and deletes lists and campaigns', async () => {
      const list = (await legacy('list/version/4/do/create', { name: 'VIPs', is_public: '1' })).list as Json;
      expect(list).toMatchObject({ name: 'VIPs', is_public: 1 });
      const read = await legacy(`list/version/4/do/read/id/${String(list.id)}`);
      expect(read).toMatchObject({ '@attributes': { stat: 'ok' }, list: { id: list.id, name: 'VIPs' } });
      const updated = await legacy(`list/version/4/do/update/id/${String(list.id)}`, {
        title: 'Very Important',
      });
      expect((updated.list as Json).title).toBe('Very Important');

      const campaign = (await legacy('campaign/version/4/do/create', { name: 'Webinar', cost: '300' }))
        .campaign as Json;
      expect(campaign).toMatchObject({ name: 'Webinar', cost: 300, crm_fid: null });
      const queried = await legacy('campaign/version/4/do/query', { name: 'Webinar' });
      expect(queried.result).toMatchObject({ total_results: 1, campaign: [{ id: campaign.id }] });

      expect(await legacy(`list/version/4/do/delete/id/${String(list.id)}`)).toEqual({
        '@attributes': { stat: 'ok', version: 1 },
      });
      expect((await legacy(`list/version/4/do/read/id/${String(list.id)}`))['@attributes']).toMatchObject({
        stat: 'fail',
      });
      expect((await legacy('list/version/4/do/create', {}))['@attributes']).toMatchObject({ err_code: 13 });
      expect(
        (await legacy('list/version/4/do/create', { name: 'x', colour: 'red' }))['@attributes'],
      ).toMatchObject({
        err_code: 5,
      });
    });

    it('adds a prospect to a list and finds the membership by list and prospect', async () => {
      const list = (await legacy('list/version/4/do/create', { name: 'Members' })).list as Json;
      const prospect = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'listed@example.com' }),
        unit: m.v4Unit.id,
      });
      const prospectId = String((prospect.body as Json).id);
      const created = await legacy(
        `listMembership/version/4/do/create/list_id/${String(list.id)}/prospect_id/${prospectId}`,
      );
      expect(created.list_membership).toMatchObject({
        list_id: list.id,
        prospect_id: Number(prospectId),
        opted_out: null,
      });
      const byPair = await legacy(
        `listMembership/version/4/do/read/list_id/${String(list.id)}/prospect_id/${prospectId}`,
      );
      expect((byPair.list_membership as Json).id).toBe((created.list_membership as Json).id);
      const optedOut = await legacy(
        `listMembership/version/4/do/update/list_id/${String(list.id)}/prospect_id/${prospectId}`,
        {
          opted_out: '1',
        },
      );
      expect((optedOut.list_membership as Json).opted_out).toBe(1);
      const query = await legacy('listMembership/version/4/do/query', { list_id: String(list.id) });
      expect((query.result as Json).total_results).toBe(1);
      const again = await legacy(
        `listMembership/version/4/do/create/list_id/${String(list.id)}/prospect_id/${prospectId}`,
      );
      expect(again['@attributes']).toMatchObject({ stat: 'fail', err_code: 62 });
    });

    it('reads users, which stay read only, in XML by default', async () => {
      const r = await m.call('/api/user/version/4/do/query', { unit: m.v4Unit.id });
      expect(r.text).toContain('<rsp stat="ok" version="1.0">');
      expect(r.text).toContain(`<crm_fid>${m.crm.adminUserId}</crm_fid>`);
      expect(
        (await legacy('user/version/4/do/create', { email: 'x@example.com' }))['@attributes'],
      ).toMatchObject({
        err_code: 24,
      });
      expect((await legacy('gadget/version/4/do/query'))['@attributes']).toMatchObject({ err_code: 24 });
    });
  });
}
