import jsforce from 'jsforce';
import { StreamingExtension } from 'jsforce/lib/api/streaming.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

/** Collects a subscription's messages (jsforce hands listeners each message's data). */
class Inbox<T> {
  readonly messages: T[] = [];
  private waiters: Array<() => void> = [];

  readonly listener = (message: unknown): void => {
    this.messages.push(message as T);
    for (const wake of this.waiters.splice(0)) wake();
  };

  async waitFor(predicate: (messages: T[]) => boolean, timeoutMs = 10_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.messages;
  }
}

interface TopicMessage {
  event: { type: string; createdDate: string; replayId: number };
  sobject: Record<string, unknown>;
}

interface GenericMessage {
  event: { createdDate: string; replayId: number };
  payload: string;
}

for (const dialect of DIALECTS) {
  describe(`PushTopics and streaming channels (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
    });

    afterAll(async () => {
      await crm.close();
    });

    it('notifies a topic of the changes its query matches, with the fields it selects', async () => {
      await conn.sobject('PushTopic').create({
        Name: 'BigAccounts',
        Query: "SELECT Id, Name, NumberOfEmployees FROM Account WHERE Industry = 'Banking'",
        // As jsforce's own streaming test sends it: a string.
        ApiVersion: '54.0',
        NotifyForFields: 'Referenced',
        NotifyForOperationCreate: true,
        NotifyForOperationUpdate: true,
        NotifyForOperationDelete: true,
        NotifyForOperationUndelete: false,
      });
      const inbox = new Inbox<TopicMessage>();
      await conn.streaming.topic('BigAccounts').subscribe(inbox.listener);

      const bank = await conn.sobject('Account').create({ Name: 'First Bank', Industry: 'Banking' });
      const shop = await conn.sobject('Account').create({ Name: 'Corner Shop', Industry: 'Retail' });
      // Referenced fields: a change to one the query reads notifies, a change to another does not.
      await conn.sobject('Account').update({ Id: bank.id!, Phone: '555-0100' });
      await conn.sobject('Account').update({ Id: bank.id!, NumberOfEmployees: 250 });
      await conn.sobject('Account').update({ Id: shop.id!, NumberOfEmployees: 3 });
      await conn.sobject('Account').destroy(bank.id!);
      await conn.soap.undelete([bank.id!] as never);

      await inbox.waitFor((m) => m.length >= 3);
      const [created, updated, deleted, ...more] = inbox.messages;
      expect(created!.event.type).toBe('created');
      expect(created!.sobject).toEqual({ Id: bank.id, Name: 'First Bank', NumberOfEmployees: null });
      expect(Math.abs(Date.parse(created!.event.createdDate) - Date.now())).toBeLessThan(60_000);
      expect(updated!.event.type).toBe('updated');
      expect(updated!.sobject).toEqual({ Id: bank.id, Name: 'First Bank', NumberOfEmployees: 250 });
      expect(deleted!.event.type).toBe('deleted');
      expect(deleted!.sobject).toEqual({ Id: bank.id });
      expect(updated!.event.replayId).toBeGreaterThan(created!.event.replayId);
      // Nothing for the retail account, the phone change, or the undelete (not asked for).
      await conn.sobject('Account').update({ Id: bank.id!, Name: 'First Bank Ltd' });
      await inbox.waitFor((m) => m.length >= 4);
      expect(more).toEqual([]);
      expect(inbox.messages[3]!.sobject).toMatchObject({ Id: bank.id, Name: 'First Bank Ltd' });
      expect(inbox.messages).toHaveLength(4);
    });

    it('replays a topic’s past notifications from -2, and refuses a topic that does not exist', async () => {
      await conn.sobject('PushTopic').create({
        Name: 'AllLeads',
        Query: 'SELECT Id, Email FROM Lead',
        ApiVersion: 60.0,
        NotifyForFields: 'All',
      });
      const lead = await conn
        .sobject('Lead')
        .create({ LastName: 'Replay', Company: 'Acme', Email: 'replay@example.com' });
      const inbox = new Inbox<TopicMessage>();
      const client = conn.streaming.createClient([new StreamingExtension.Replay('/topic/AllLeads', -2)]);
      try {
        await client.subscribe('/topic/AllLeads', inbox.listener);
        await inbox.waitFor((m) => m.some((x) => x.sobject.Id === lead.id));
        expect(inbox.messages.find((x) => x.sobject.Id === lead.id)).toMatchObject({
          event: { type: 'created' },
          sobject: { Email: 'replay@example.com' },
        });
      } finally {
        (client as unknown as { disconnect(): void }).disconnect();
      }

      const r = await fetch(`${crm.url}/cometd/60.0`, {
        method: 'POST',
        headers: { Authorization: `OAuth ${conn.accessToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify([
          { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] },
        ]),
      });
      const [handshake] = (await r.json()) as Array<{ clientId: string }>;
      const subscribe = await fetch(`${crm.url}/cometd/60.0`, {
        method: 'POST',
        headers: { Authorization: `OAuth ${conn.accessToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify([
          { channel: '/meta/subscribe', clientId: handshake!.clientId, subscription: '/topic/NoSuchTopic' },
        ]),
      });
      expect(await subscribe.json()).toEqual([
        expect.objectContaining({
          successful: false,
          subscription: '/topic/NoSuchTopic',
          error: '400::The channel you requested to subscribe to does not exist {/topic/NoSuchTopic}',
        }),
      ]);
    });

    it('refuses a topic whose query a PushTopic cannot have, and saves nothing', async () => {
      const refused = async (Query: string) => {
        const r = await crm.api('/sobjects/PushTopic', {
          method: 'POST',
          body: JSON.stringify({ Name: 'Bad', Query, ApiVersion: 60.0 }),
        });
        expect(r.status).toBe(400);
        return ((await r.json()) as Array<{ errorCode: string; message: string; fields: string[] }>)[0]!;
      };
      expect(await refused('SELECT Id FROM Lead ORDER BY Name')).toMatchObject({
        errorCode: 'INVALID_FIELD',
        fields: ['Query'],
      });
      expect((await refused('SELECT Id, Nope__c FROM Lead')).message).toMatch(/Nope__c/);
      expect((await refused('SELECT Id, Account.Name FROM Contact')).message).toMatch(/relationship/);
      expect((await refused('SELECT COUNT() FROM Lead')).message).toMatch(/aggregate/);
      expect((await refused('SELEC Id FROM Lead')).errorCode).toBe('INVALID_FIELD');
      const saved = await conn.query("SELECT Id FROM PushTopic WHERE Name = 'Bad'");
      expect(saved.totalSize).toBe(0);
    });

    it('carries generic events pushed to a streaming channel to its subscribers', async () => {
      const channelName = '/u/HandoffNotices';
      const bad = await crm.api('/sobjects/StreamingChannel', {
        method: 'POST',
        body: JSON.stringify({ Name: 'NoPrefix' }),
      });
      expect(bad.status).toBe(400);
      await conn.sobject('StreamingChannel').create({ Name: channelName });
      const inbox = new Inbox<GenericMessage>();
      await conn.streaming.channel(channelName).subscribe(inbox.listener);

      const result = await conn.streaming.channel(channelName).push({ payload: 'hello, world', userIds: [] });
      expect(result).toEqual({ fanoutCount: -1, userOnlineStatus: {} });
      const targeted = await conn.streaming
        .channel(channelName)
        .push({ payload: 'for the admin', userIds: [crm.adminUserId, '005000000000001AAA'] });
      expect(targeted).toEqual({
        fanoutCount: 1,
        userOnlineStatus: { [crm.adminUserId]: true, '005000000000001AAA': false },
      });
      // An event for another user only is not delivered here.
      await conn.streaming
        .channel(channelName)
        .push({ payload: 'not for us', userIds: ['005000000000001AAA'] });
      await conn.streaming.channel(channelName).push({ payload: 'last', userIds: [] });

      await inbox.waitFor((m) => m.some((x) => x.payload === 'last'));
      expect(inbox.messages.map((m) => m.payload)).toEqual(['hello, world', 'for the admin', 'last']);
      expect(inbox.messages[0]!.event.replayId).toBeGreaterThan(0);

      const id = (await conn.sobject('StreamingChannel').findOne({ Name: channelName }, ['Id']))!.Id!;
      const empty = await crm.api(`/sobjects/StreamingChannel/${id}/push`, {
        method: 'POST',
        body: JSON.stringify({ pushEvents: [] }),
      });
      expect(empty.status).toBe(400);
      const lead = await conn.sobject('Lead').create({ LastName: 'Not a channel', Company: 'Acme' });
      const wrong = await crm.api(`/sobjects/Lead/${lead.id}/push`, {
        method: 'POST',
        body: JSON.stringify({ pushEvents: [{ payload: 'x', userIds: [] }] }),
      });
      expect(wrong.status).toBe(404);
    });
  });
}
