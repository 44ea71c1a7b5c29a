import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, visitorActivities, type TestMarketing } from '../support/marketing-server.js';
import { startTestSmtp } from '../support/smtp.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`email engagement (${dialect})`, () => {
    let m: TestMarketing;
    let smtp: Awaited<ReturnType<typeof startTestSmtp>>;
    let campaignId: number;
    let listId: number;
    const people: Record<string, number> = {};

    const post = async (path: string, body: Json) => {
      const r = await m.call(path, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.status, body: r.body as Json };
    };
    const activities = async (prospectId: number) =>
      (await visitorActivities(m, m.v3Unit.id, prospectId)).map((a) => [a.typeName, a.details]);
    const mailTo = (address: string): ParsedMail => {
      const mail = smtp.mails.find((x) => x.to && !Array.isArray(x.to) && x.to.text === address);
      if (!mail) throw new Error(`no mail to ${address}`);
      return mail;
    };
    /** The tracked links of a received mail, in order (pixel and unsubscribe last). */
    const linksIn = (mail: ParsedMail) =>
      [...String(mail.html).matchAll(/(?:href|src)="([^"]+)"/g)].map((x) => x[1]!);

    beforeAll(async () => {
      smtp = await startTestSmtp();
      m = await startTestMarketing({ dialect, smtp: { url: smtp.url, from: 'news@handoff.test' } });
      campaignId = (await post('/api/v5/objects/campaigns?fields=id', { name: 'Newsletter' })).body
        .id as number;
      listId = (await post('/api/v5/objects/lists?fields=id', { name: 'Newsletter' })).body.id as number;
      for (const name of ['ada', 'grace', 'optedout', 'donotemail']) {
        const p = await m.services.prospects.create(
          m.v3Unit,
          { type: 'api' },
          {
            email: `${name}@example.com`,
            optedOut: name === 'optedout',
            isDoNotEmail: name === 'donotemail',
          },
        );
        people[name] = p.id;
        await post('/api/v5/objects/list-memberships?fields=id', { listId, prospectId: p.id });
      }
    });
    afterAll(async () => {
      await m.close();
      await smtp.close();
    });

    it('sends a list email to those who may get it, each with its own tracked links, and records Sent', async () => {
      const sent = await post('/api/v5/objects/emails?fields=id,subject,recipientCount,listIds', {
        campaignId,
        listIds: [listId],
        subject: 'November news',
        htmlMessage: '<p>Read <a href="https://www.example.com/blog?a=1&amp;b=2">the blog</a></p>',
        textMessage: 'Read the blog: https://www.example.com/blog',
      });
      expect(sent.status).toBe(201);
      expect(sent.body).toMatchObject({
        subject: 'November news',
        recipientCount: 2,
        listIds: String(listId),
      });
      await m.services.email.idle();
      expect(smtp.mails.map((x) => (Array.isArray(x.to) ? '' : x.to?.text)).sort()).toEqual([
        'ada@example.com',
        'grace@example.com',
      ]);
      const ada = linksIn(mailTo('ada@example.com'));
      const grace = linksIn(mailTo('grace@example.com'));
      expect(ada[0]).toMatch(new RegExp(`^${m.url}/e/[\\w-]+/c/0$`));
      expect(ada[0]).not.toBe(grace[0]);
      const headerLines = mailTo('ada@example.com').headerLines.map((h) => h.line);
      expect(headerLines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(await activities(people.ada!)).toEqual([['Sent', 'November news']]);
      expect(await activities(people.optedout!)).toEqual([]);
      expect(await activities(people.donotemail!)).toEqual([]);
    });

    it('records opens and clicks, and redirects a click only to the email’s own link', async () => {
      const [click, , pixel] = linksIn(mailTo('ada@example.com'));
      const open = await fetch(pixel!);
      expect(open.headers.get('content-type')).toBe('image/gif');
      const followed = await fetch(click!, { redirect: 'manual' });
      expect(followed.status).toBe(302);
      expect(followed.headers.get('location')).toBe('https://www.example.com/blog?a=1&b=2');
      // No open redirect: another position, or a URL in the query, leads nowhere.
      expect((await fetch(click!.replace(/\/c\/0$/, '/c/1'), { redirect: 'manual' })).status).toBe(404);
      const injected = await fetch(`${click}?url=https://evil.example.com`, { redirect: 'manual' });
      expect(injected.headers.get('location')).toBe('https://www.example.com/blog?a=1&b=2');
      expect(await activities(people.ada!)).toEqual([
        ['Sent', 'November news'],
        ['Open', 'November news'],
        ['Click', 'https://www.example.com/blog?a=1&b=2'],
        ['Click', 'https://www.example.com/blog?a=1&b=2'],
      ]);
      const ada = await m.services.prospects.read(m.v3Unit.id, people.ada!);
      expect(ada.values.score).toBe(6);
      // An unknown token still gets the pixel, and records nothing.
      expect((await fetch(`${m.url}/e/AAAAAAAAAAAAAAAAAAAAAA/o.gif`)).status).toBe(200);
    });

    it('unsubscribes from the page: opted out, recorded, and left out of the next list email', async () => {
      const unsubscribe = linksIn(mailTo('grace@example.com'))[1]!;
      const pageHtml = await (await fetch(unsubscribe)).text();
      expect(pageHtml).toContain('<button type="submit">Unsubscribe</button>');
      // Loading the page changes nothing; posting it (or a mail client's one-click) does.
      expect((await m.services.prospects.read(m.v3Unit.id, people.grace!)).values.optedOut).toBe(false);
      const done = await fetch(unsubscribe, {
        method: 'POST',
        body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }),
      });
      expect(await done.text()).toContain('You are unsubscribed');
      expect((await m.services.prospects.read(m.v3Unit.id, people.grace!)).values.optedOut).toBe(true);
      expect((await activities(people.grace!)).map((a) => a[0])).toEqual(['Sent', 'Unsubscribe Page']);
      const next = await post('/api/v5/objects/emails?fields=recipientCount', {
        campaignId,
        listIds: [listId],
        subject: 'December news',
        textMessage: 'Hello',
      });
      expect(next.body.recipientCount).toBe(1);
    });

    it('records a hard bounce, and sends no more to that address', async () => {
      const one = await post('/api/v5/objects/emails?fields=id,prospectId', {
        campaignId,
        prospectId: people.ada,
        subject: 'Just for you',
        textMessage: 'Hi Ada',
      });
      expect(one.status).toBe(201);
      const bounce = await m.call(`/api/v5/objects/emails/${one.body.id}/do/recordBounce`, {
        method: 'POST',
        body: JSON.stringify({ prospectId: people.ada, type: 'hard', reason: '550 mailbox unavailable' }),
      });
      expect(bounce.status).toBe(204);
      const ada = await m.services.prospects.read(m.v3Unit.id, people.ada!);
      expect(ada.values).toMatchObject({
        isEmailHardBounced: true,
        emailBouncedReason: '550 mailbox unavailable',
      });
      expect((await activities(people.ada!)).at(-1)).toEqual([
        'Bounced',
        'hard bounce: 550 mailbox unavailable',
      ]);
      const refused = await post('/api/v5/objects/emails?fields=id', {
        campaignId,
        prospectId: people.ada,
        subject: 'Again',
        textMessage: 'Hi',
      });
      expect(refused).toMatchObject({ status: 400, body: { code: 62 } });
      expect(String(refused.body.message)).toContain('bounced');
    });

    it('refuses a malformed send in the v5 error format, sending nothing', async () => {
      await m.services.email.idle();
      const before = smtp.mails.length;
      for (const body of [
        { campaignId, subject: 'x', textMessage: 'x' },
        { campaignId, subject: 'x', prospectId: people.ada, listIds: [listId], textMessage: 'x' },
        { campaignId, subject: 'x', prospectId: people.optedout, textMessage: 'x' },
        { campaignId: 999_999, subject: 'x', listIds: [listId], textMessage: 'x' },
      ]) {
        const r = await post('/api/v5/objects/emails?fields=id', body);
        expect(r).toMatchObject({ status: 400, body: { code: 62 } });
      }
      await m.services.email.idle();
      expect(smtp.mails.length).toBe(before);
    });
  });
}
