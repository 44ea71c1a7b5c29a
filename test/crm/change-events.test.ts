import jsforce from 'jsforce';
import { StreamingExtension } from 'jsforce/lib/api/streaming.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEventPayload } from '../../src/crm/domain/change-event.js';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildLead } from '../support/factories.js';

interface ChangeMessage {
  schema: string;
  payload: ChangeEventPayload;
  event: { replayId: number };
}

/** Collects a subscription's messages and lets a test wait for the ones it expects. */
class Inbox {
  readonly messages: ChangeMessage[] = [];
  private waiters: Array<() => void> = [];

  // jsforce hands listeners the message's data: for change events, a ChangeMessage.
  readonly listener = (message: unknown): void => {
    this.messages.push(message as ChangeMessage);
    for (const wake of this.waiters.splice(0)) wake();
  };

  async waitFor(
    predicate: (messages: ChangeMessage[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<ChangeMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out; received ${JSON.stringify(this.messages.map((m) => m.payload.ChangeEventHeader))}`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.messages;
  }

  forRecord(id: string): ChangeMessage[] {
    return this.messages.filter((m) => m.payload.ChangeEventHeader.recordIds.includes(id));
  }
}

type FayeClient = ReturnType<jsforce.Connection['streaming']['createClient']>;

for (const dialect of DIALECTS) {
  describe(`change events over CometD (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;
    const clients: FayeClient[] = [];

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
    });

    afterAll(async () => {
      // faye has disconnect(); its typings leave it out.
      for (const client of clients) (client as unknown as { disconnect(): void }).disconnect();
      await crm.close();
    });

    /** A faye client like jsforce's, with the replay extension starting at `replayId`. */
    const replayClient = (channel: string, replayId: number): FayeClient => {
      const client = conn.streaming.createClient([new StreamingExtension.Replay(channel, replayId)]);
      clients.push(client);
      return client;
    };

    const createLead = async (fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
      const r = await crm.api('/sobjects/Lead', {
        method: 'POST',
        body: JSON.stringify(buildLead(fields)),
        headers,
      });
      expect(r.status).toBe(201);
      return ((await r.json()) as { id: string }).id;
    };

    it('delivers new Lead changes to streaming.topic(...).subscribe with the full header and values', async () => {
      const inbox = new Inbox();
      const subscription = conn.streaming.topic('/data/LeadChangeEvent').subscribe(inbox.listener);
      await subscription; // resolves once the server acknowledged the subscription

      const id = await createLead(
        { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@example.com', City: 'London' },
        { 'Sforce-Call-Options': 'client=handoff-connector/1.0, defaultNamespace=hf' },
      );
      const update = await crm.api(`/sobjects/Lead/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ Title: 'Countess', City: null }),
      });
      expect(update.status).toBe(204);
      expect((await crm.api(`/sobjects/Lead/${id}`, { method: 'DELETE' })).status).toBe(204);
      await conn.soap.undelete([id] as never);

      await inbox.waitFor(() => inbox.forRecord(id).length >= 4);
      const [created, updated, deleted, undeleted] = inbox.forRecord(id);

      const header = created!.payload.ChangeEventHeader;
      expect(header).toMatchObject({
        entityName: 'Lead',
        recordIds: [id],
        changeType: 'CREATE',
        changeOrigin: 'com/salesforce/api/rest/60.0;client=handoff-connector/1.0',
        sequenceNumber: 1,
        commitUser: crm.adminUserId,
        changedFields: [],
        nulledFields: [],
        diffFields: [],
      });
      expect(header.transactionKey).toMatch(/^[0-9a-f-]{36}$/);
      expect(Math.abs(header.commitTimestamp - Date.now())).toBeLessThan(60_000);
      // Compound fields are nested, as Salesforce sends them.
      expect(created!.payload.Name).toEqual({ FirstName: 'Ada', LastName: 'Lovelace' });
      expect(created!.payload.Address).toEqual({ City: 'London' });
      expect(created!.payload.Email).toBe('ada@example.com');
      expect(created!.payload.Status).toBe('Open - Not Contacted');

      const updateHeader = updated!.payload.ChangeEventHeader;
      expect(updateHeader.changeType).toBe('UPDATE');
      expect(updateHeader.changeOrigin).toBe('com/salesforce/api/rest/60.0');
      expect(updateHeader.changedFields).toEqual(
        expect.arrayContaining(['Title', 'Address.City', 'LastModifiedDate']),
      );
      expect(updateHeader.nulledFields).toEqual(['Address.City']);
      expect(updated!.payload.Title).toBe('Countess');
      expect(updated!.payload.Email).toBeUndefined();

      expect(deleted!.payload.ChangeEventHeader.changeType).toBe('DELETE');
      expect(Object.keys(deleted!.payload)).toEqual(['ChangeEventHeader']);
      expect(undeleted!.payload.ChangeEventHeader.changeType).toBe('UNDELETE');
      expect(undeleted!.payload.ChangeEventHeader.changeOrigin).toBe('com/salesforce/api/soap/60.0');
      expect(undeleted!.payload.Email).toBe('ada@example.com');

      // Replay ids increase in commit order.
      const ids = [created, updated, deleted, undeleted].map((m) => m!.event.replayId);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(4);
      conn.streaming.topic('/data/LeadChangeEvent').unsubscribe(subscription);
    });

    it('replays every retained event with -2, and resumes after a saved replay id', async () => {
      const first = await createLead({ LastName: 'Replay-One' });
      const second = await createLead({ LastName: 'Replay-Two' });

      const all = new Inbox();
      await replayClient('/data/LeadChangeEvent', -2).subscribe('/data/LeadChangeEvent', all.listener);
      await all.waitFor(() => all.forRecord(second).length === 1);
      const firstEvent = all.forRecord(first)[0]!;
      // Events from earlier tests are retained too, oldest first.
      expect(all.messages[0]!.event.replayId).toBeLessThan(firstEvent.event.replayId);

      const resumed = new Inbox();
      await replayClient('/data/LeadChangeEvent', firstEvent.event.replayId).subscribe(
        '/data/LeadChangeEvent',
        resumed.listener,
      );
      await resumed.waitFor(() => resumed.forRecord(second).length === 1);
      expect(resumed.forRecord(first)).toHaveLength(0);
      expect(resumed.messages[0]!.payload.ChangeEventHeader.recordIds).toEqual([second]);
    });

    it('carries every published object on /data/ChangeEvents, and nothing for objects not published', async () => {
      const inbox = new Inbox();
      await conn.streaming.topic('/data/ChangeEvents').subscribe(inbox.listener);
      const account = (await conn.sobject('Account').create({ Name: 'Acme' })) as { id: string };
      const user = await crm.call(`/sobjects/User/${crm.adminUserId}`, 'PATCH', { Title: 'Chief' });
      expect(user.status).toBe(204);
      const lead = await createLead({ LastName: 'Everywhere' });
      await inbox.waitFor(() => inbox.forRecord(lead).length === 1);
      expect(inbox.forRecord(account.id)[0]!.payload.ChangeEventHeader.entityName).toBe('Account');
      expect(inbox.forRecord(crm.adminUserId)).toHaveLength(0);
    });

    it('publishes a lead conversion as one transaction, and nothing for a rolled-back write', async () => {
      const inbox = new Inbox();
      await conn.streaming.topic('/data/ChangeEvents').subscribe(inbox.listener);
      const leadId = await createLead({ LastName: 'Converted', Company: 'Converted Co' });
      const failed = await crm.call('/composite/sobjects', 'POST', {
        allOrNone: true,
        records: [
          { attributes: { type: 'Lead' }, LastName: 'Never', Company: 'Never Co' },
          { attributes: { type: 'Lead' }, Company: 'No last name' },
        ],
      });
      expect(failed.status).toBe(200);
      const converted = (await conn.soap.convertLead({
        leadId,
        convertedStatus: 'Closed - Converted',
      } as never)) as unknown as { accountId: string; contactId: string; opportunityId: string };

      await inbox.waitFor(() => inbox.forRecord(converted.opportunityId).length === 1);
      const conversionIds = [leadId, converted.accountId, converted.contactId, converted.opportunityId];
      // The lead's CREATE came earlier, in its own transaction.
      const conversion = inbox.messages.filter(
        (m) =>
          conversionIds.some((id) => m.payload.ChangeEventHeader.recordIds.includes(id)) &&
          !(
            m.payload.ChangeEventHeader.recordIds[0] === leadId &&
            m.payload.ChangeEventHeader.changeType === 'CREATE'
          ),
      );
      const keys = new Set(conversion.map((m) => m.payload.ChangeEventHeader.transactionKey));
      expect(keys.size).toBe(1);
      expect(conversion.map((m) => m.payload.ChangeEventHeader.entityName).sort()).toEqual([
        'Account',
        'Contact',
        'Lead',
        'Opportunity',
      ]);
      expect(conversion.map((m) => m.payload.ChangeEventHeader.sequenceNumber).sort()).toEqual([1, 2, 3, 4]);
      const leadUpdate = conversion.find((m) => m.payload.ChangeEventHeader.entityName === 'Lead')!;
      expect(leadUpdate.payload.IsConverted).toBe(true);
      expect(leadUpdate.payload.ConvertedContactId).toBe(converted.contactId);
      expect(
        inbox.messages.some(
          (m) => (m.payload.Name as { LastName?: string } | undefined)?.LastName === 'Never',
        ),
      ).toBe(false);
    });
  });
}

describe('the Bayeux protocol at /cometd and event retention', () => {
  let crm: TestCrm;
  let clock = Date.now();

  beforeAll(async () => {
    // Tokens outlive the 73 hours the clock jumps.
    crm = await startTestCrm({ now: () => new Date(clock), config: { accessTokenTtlSeconds: 7 * 86_400 } });
  });

  afterAll(async () => {
    await crm.close();
  });

  const bayeux = async (messages: unknown[], auth: string | null = null) => {
    const token = auth ?? (await crm.token());
    const r = await fetch(`${crm.url}/cometd/60.0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `OAuth ${token}` },
      body: JSON.stringify(messages),
    });
    expect(r.status).toBe(200);
    return (await r.json()) as Array<Record<string, unknown>>;
  };

  const handshake = async () => {
    const [reply] = await bayeux([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' },
    ]);
    expect(reply).toMatchObject({
      channel: '/meta/handshake',
      successful: true,
      id: '1',
      ext: { replay: true },
    });
    expect(reply!.supportedConnectionTypes).toEqual(['long-polling']);
    return reply!.clientId as string;
  };

  const subscribe = async (clientId: string, channel: string, replay?: unknown) =>
    (
      await bayeux([
        {
          channel: '/meta/subscribe',
          clientId,
          subscription: channel,
          id: 's',
          ...(replay === undefined ? {} : { ext: { replay: { [channel]: replay } } }),
        },
      ])
    )[0]!;

  const connectNow = (clientId: string) =>
    bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }]);

  it('refuses a bad token with reconnect none, and an unknown client with a new handshake', async () => {
    const [denied] = await bayeux([{ channel: '/meta/handshake', version: '1.0' }], 'not-a-token');
    expect(denied).toMatchObject({
      successful: false,
      error: '401::Authentication invalid',
      advice: { reconnect: 'none' },
    });
    const [unknown] = await bayeux([
      { channel: '/meta/connect', clientId: 'nobody', connectionType: 'long-polling' },
    ]);
    expect(unknown).toMatchObject({ successful: false, advice: { reconnect: 'handshake' } });
  });

  it('rejects unknown channels, bad replay ids and publishing', async () => {
    const clientId = await handshake();
    const unknown = await subscribe(clientId, '/data/UserChangeEvent');
    expect(unknown).toMatchObject({ successful: false, subscription: '/data/UserChangeEvent' });
    expect(unknown.error).toMatch(/^400::The channel you requested to subscribe to does not exist/);
    const future = await subscribe(clientId, '/data/LeadChangeEvent', 999_999_999);
    expect(future).toMatchObject({ successful: false });
    expect(future.error).toMatch(/^400::The replayId \{999999999\} you provided was invalid/);
    const [publish] = await bayeux([{ channel: '/data/LeadChangeEvent', clientId, data: {} }]);
    expect(publish).toMatchObject({ successful: false });
  });

  it('holds a connect until an event commits, then stops delivering after unsubscribe and disconnect', async () => {
    const clientId = await handshake();
    expect(await subscribe(clientId, '/data/ContactChangeEvent')).toMatchObject({ successful: true });
    await connectNow(clientId);

    const held = bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: 'c' }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const contact = await crm.call('/sobjects/Contact', 'POST', { LastName: 'Held' });
    const replies = await held;
    const event = replies.find((r) => r.channel === '/data/ContactChangeEvent') as {
      data: ChangeMessage;
    };
    expect(event.data.payload.ChangeEventHeader.recordIds).toEqual([(contact.body as { id: string }).id]);
    expect(replies.at(-1)).toMatchObject({ channel: '/meta/connect', successful: true, id: 'c' });

    const [unsubscribed] = await bayeux([
      { channel: '/meta/unsubscribe', clientId, subscription: '/data/ContactChangeEvent' },
    ]);
    expect(unsubscribed).toMatchObject({ successful: true });
    await crm.call('/sobjects/Contact', 'POST', { LastName: 'Unheard' });
    const quiet = await connectNow(clientId);
    expect(quiet.filter((r) => r.channel === '/data/ContactChangeEvent')).toHaveLength(0);

    const [bye] = await bayeux([{ channel: '/meta/disconnect', clientId }]);
    expect(bye).toMatchObject({ successful: true });
    const [after] = await connectNow(clientId);
    expect(after).toMatchObject({ successful: false, advice: { reconnect: 'handshake' } });
  });

  it('keeps events 72 hours: older ones are purged and their replay ids are refused', async () => {
    const old = await crm.call('/sobjects/Lead', 'POST', buildLead({ LastName: 'Old' }));
    const clientId = await handshake();
    const bounds = await crm.services.changeEvents.bounds();
    clock += 73 * 3_600_000;
    const fresh = await crm.call('/sobjects/Lead', 'POST', buildLead({ LastName: 'Fresh' }));
    expect(await crm.services.changeEvents.purgeExpired()).toBeGreaterThan(0);

    const refused = await subscribe(clientId, '/data/LeadChangeEvent', bounds.first);
    expect(refused).toMatchObject({ successful: false });
    expect(await subscribe(clientId, '/data/LeadChangeEvent', -2)).toMatchObject({ successful: true });
    const replies = await connectNow(clientId);
    const ids = replies
      .filter((r) => r.channel === '/data/LeadChangeEvent')
      .map((r) => (r.data as ChangeMessage).payload.ChangeEventHeader.recordIds[0]);
    expect(ids).toEqual([(fresh.body as { id: string }).id]);
    expect(ids).not.toContain((old.body as { id: string }).id);
  });
});
