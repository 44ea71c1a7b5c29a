import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { selectCursor } from '../../src/connector/store/link-store.js';
import { buildConnectorWebhookApp, WEBHOOK_PATH } from '../../src/connector/webhook-app.js';
import { signatureHeader } from '../../src/http/webhook-signature.js';
import { openTestConnector } from '../support/connector.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;
const SECRET = 'the-webhook-secret-of-the-test';
/** Longer than any test waits: what happens in these tests comes from events, not polling. */
const POLL_MS = 120_000;

for (const dialect of DIALECTS) {
  describe(`sync in seconds: change events and webhooks (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector | undefined;
    let receiver: ReturnType<typeof buildConnectorWebhookApp>;

    const open = () =>
      openTestConnector(m, m.v3Unit.id, undefined, { createLeads: 'form-success' }, undefined, {
        webhookSecret: SECRET,
        coalesceMs: 50,
      });
    const leadsByEmail = async (email: string) =>
      (await conn.query<Json>(`SELECT Id FROM Lead WHERE Email = '${email}'`)).records;

    beforeAll(async () => {
      // The connector's webhook receiver first: the engine is told where it is.
      receiver = buildConnectorWebhookApp(() => connector);
      await receiver.listen({ host: '127.0.0.1', port: 0 });
      const address = receiver.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}${WEBHOOK_PATH}`;
      m = await startTestMarketing({
        dialect,
        webhooks: [
          { url, events: ['form.success', 'prospect.assigned', 'prospect.updated'], secret: SECRET },
        ],
      });
      conn = await m.crm.connect();
      connector = await open();
      connector.start(POLL_MS);
      expect(await connector.changeEventsReady()).toBe(true);
    });
    afterAll(async () => {
      await connector?.stop();
      await receiver.close();
      await m.close();
    });

    it('makes the prospect of a new Lead from its change event, without waiting for a poll', async () => {
      await conn
        .sobject('Lead')
        .create({ LastName: 'Streamed', Company: 'S Co', Email: 'streamed@example.com' });
      await expect
        .poll(() => m.services.prospects.byEmail(m.v3Unit.id, 'streamed@example.com').then((p) => p.length), {
          timeout: 10_000,
        })
        .toBe(1);
    });

    it('makes a Lead, with the form’s Task, from the form-success webhook', async () => {
      const post = async (path: string, body: Json) =>
        (await m.call(path, { method: 'POST', body: JSON.stringify(body) })).body as Json;
      const campaign = await post('/api/v5/objects/campaigns?fields=id', { name: 'Realtime' });
      const handler = await post('/api/v5/objects/form-handlers?fields=id', {
        name: 'Trial',
        campaignId: campaign.id,
      });
      for (const [name, prospectApiFieldId] of [
        ['email', 'email'],
        ['last_name', 'lastName'],
      ])
        await post('/api/v5/objects/form-handler-fields?fields=id', {
          formHandlerId: handler.id,
          name,
          prospectApiFieldId,
        });
      await fetch(`${m.url}/l/${m.v3Unit.id}/${handler.id as number}`, {
        method: 'POST',
        body: new URLSearchParams({ email: 'trial@example.com', last_name: 'Trialist' }),
        redirect: 'manual',
      });
      await expect
        .poll(() => leadsByEmail('trial@example.com').then((r) => r.length), { timeout: 10_000 })
        .toBe(1);
      const [lead] = await leadsByEmail('trial@example.com');
      await expect
        .poll(
          async () =>
            (
              await conn.query<Json>(`SELECT Subject FROM Task WHERE WhoId = '${String(lead!.Id)}'`)
            ).records.map((t) => t.Subject),
          { timeout: 10_000 },
        )
        .toEqual(['Form: Trial']);
    });

    it('refuses a webhook without a valid signature, queueing nothing', async () => {
      const address = receiver.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}${WEBHOOK_PATH}`;
      const body = JSON.stringify({
        event: 'form.success',
        businessUnitId: m.v3Unit.id,
        data: { prospectId: 1 },
      });
      const send = (signature: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-handoff-signature': signature },
          body,
        });
      expect((await send('t=1,v1=00')).status).toBe(401);
      const old = String(Math.floor(Date.now() / 1000) - 3600);
      expect((await send(signatureHeader(SECRET, old, body))).status).toBe(401);
      const now = String(Math.floor(Date.now() / 1000));
      expect((await send(signatureHeader('another-secret-entirely', now, body))).status).toBe(401);
      const accepted = await send(signatureHeader(SECRET, now, body));
      expect([accepted.status, await accepted.json()]).toEqual([202, { accepted: true }]);
      // The echo of the connector's own write to a prospect is acknowledged and ignored.
      const echo = JSON.stringify({
        event: 'prospect.updated',
        businessUnitId: m.v3Unit.id,
        data: { prospectId: 1, actor: 'sync', fields: ['salesforceId'] },
      });
      const ignored = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-handoff-signature': signatureHeader(SECRET, now, echo),
        },
        body: echo,
      });
      expect([ignored.status, await ignored.json()]).toEqual([202, { accepted: false }]);
    });

    it('loses nothing and repeats no Task across a restart in the middle of a burst', async () => {
      const emails = Array.from({ length: 60 }, (_, i) => `burst${i}@example.com`);
      const make = (list: string[]) =>
        conn.sobject('Lead').create(
          list.map((Email, i) => ({ LastName: `Burst ${i}`, Company: 'B Co', Email })),
          {
            allOrNone: true,
          },
        );
      await make(emails.slice(0, 30));
      // Stopped mid-burst: the rest arrive while no connector runs.
      await connector!.stop();
      const replay = await selectCursor(m.crm.database.db, `${m.v3Unit.id}:change-events`);
      expect(Number(replay)).toBeGreaterThan(0);
      await make(emails.slice(30));
      connector = await open();
      connector.start(POLL_MS);
      await expect
        .poll(
          async () => {
            let made = 0;
            for (const email of emails)
              made += (await m.services.prospects.byEmail(m.v3Unit.id, email)).length;
            return made;
          },
          { timeout: 20_000 },
        )
        .toBe(emails.length);
      // Each a form success on the marketing side too, while a burst of webhooks comes in.
      for (const email of emails.slice(0, 10)) {
        const [p] = await m.services.prospects.byEmail(m.v3Unit.id, email);
        await m.services.activities.record(m.v3Unit, { type: 4, prospectId: p!.id });
      }
      await connector.stop();
      connector = await open();
      connector.start(POLL_MS);
      const keys = async () =>
        (
          await conn.query<Json>(`SELECT Handoff_Activity_Id__c FROM Task WHERE Subject LIKE 'Form%'`)
        ).records.map((t) => String(t.Handoff_Activity_Id__c));
      // The new connector's first pass and the webhooks take them up: ten Tasks, none twice.
      await expect.poll(async () => (await keys()).length, { timeout: 20_000 }).toBe(11);
      const all = await keys();
      expect(new Set(all).size).toBe(all.length);
      for (const email of emails)
        expect(await m.services.prospects.byEmail(m.v3Unit.id, email)).toHaveLength(1);
    });
  });
}
