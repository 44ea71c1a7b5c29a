import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectDeliveries } from '../../src/marketing/webhooks/webhook-store.js';
import { webhookSignature } from '../../src/marketing/webhooks/webhook-service.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;
const SECRET = 'a-secret-of-at-least-16-chars';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A receiver of webhooks on 127.0.0.1:0 that answers 500 to its first `failFirst` calls. */
async function startReceiver(failFirst: number) {
  const received: Received[] = [];
  let calls = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      calls += 1;
      if (calls <= failFirst) {
        response.writeHead(500).end();
        return;
      }
      received.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

for (const dialect of DIALECTS) {
  describe(`automation rules, completion actions and webhooks (${dialect})`, () => {
    let m: TestMarketing;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const users: number[] = [];
    let listId: number;
    let otherListId: number;

    const post = async (path: string, body: Json) => {
      const r = await m.call(path, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.status, body: r.body as Json };
    };
    const rule = async (body: Json) => {
      const r = await post('/api/v5/objects/automation-rules?fields=id', body);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as number;
    };
    const pause = (id: number) =>
      m.call(`/api/v5/objects/automation-rules/${id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ isPaused: true }),
      });
    const create = (values: Json) => m.services.prospects.create(m.v3Unit, { type: 'api' }, values as never);
    const update = (id: number, values: Json) =>
      m.services.prospects.update(m.v3Unit, { type: 'api' }, id, values as never);
    const read = async (id: number) => (await m.services.prospects.read(m.v3Unit.id, id)).values;
    const settle = () => m.services.automation.runPending();
    const members = async (list: number) =>
      (await m.services.collections.memberships(m.v3Unit.id, { listId: list })).map(
        (x) => x.values.prospectId,
      );

    beforeAll(async () => {
      receiver = await startReceiver(2);
      m = await startTestMarketing({
        dialect,
        // A long interval: the tests run the scheduled pass themselves.
        automationIntervalMs: 3_600_000,
        webhooks: [
          { url: `${receiver.url}/events`, events: ['prospect.assigned', 'form.success'], secret: SECRET },
        ],
      });
      for (const n of [1, 2]) {
        await m.services.units.grant(m.v3Unit.id, {
          crmUserId: `005REP00000000${n}AAA`,
          email: `rep${n}@example.com`,
        });
        users.push((await m.services.units.userId(m.v3Unit.id, `005REP00000000${n}AAA`))!);
      }
      listId = (await post('/api/v5/objects/lists?fields=id', { name: 'Hot' })).body.id as number;
      otherListId = (await post('/api/v5/objects/lists?fields=id', { name: 'Nurture' })).body.id as number;
    });
    afterAll(async () => {
      await m.close();
      await receiver.close();
    });

    it('acts once on a prospect that meets every condition: list, score, assignment, field and tag', async () => {
      const id = await rule({
        name: 'Qualified in France',
        conditions: [
          { kind: 'field', field: 'score', op: 'atLeast', value: 50 },
          { kind: 'field', field: 'country', op: 'equals', value: 'France' },
        ],
        actions: [
          { kind: 'addToList', listId },
          { kind: 'adjustScore', points: 10 },
          { kind: 'assignUser', userId: users[0] },
          { kind: 'setField', field: 'jobTitle', value: 'Qualified lead' },
          { kind: 'addTag', tag: 'hot' },
        ],
      });
      const low = await create({ email: 'low@example.com', score: 20, country: 'France' });
      const hot = await create({ email: 'hot@example.com', score: 60, country: 'France' });
      await settle();
      expect(await read(hot.id)).toMatchObject({
        score: 70,
        assignedToId: users[0],
        jobTitle: 'Qualified lead',
      });
      expect(await read(low.id)).toMatchObject({ score: 20, assignedToId: null });
      expect(await members(listId)).toEqual([hot.id]);
      const tags = await m.call(`/api/v5/objects/tagged-objects?fields=objectId&objectId=${hot.id}`);
      expect((tags.body as { values: Json[] }).values).toHaveLength(1);
      // Changed again while still matching: not again (once per prospect).
      await update(hot.id, { city: 'Paris' });
      await settle();
      await m.services.automation.runScheduled();
      expect((await read(hot.id)).score).toBe(70);
      await pause(id);
    });

    it('acts again with a repeatable rule only after the prospect stops matching and matches again', async () => {
      const id = await rule({
        name: 'CEO bonus',
        isRepeatable: true,
        conditions: [{ kind: 'field', field: 'jobTitle', op: 'equals', value: 'CEO' }],
        actions: [{ kind: 'adjustScore', points: 5 }],
      });
      const p = await create({ email: 'ceo@example.com', jobTitle: 'CEO' });
      await settle();
      expect((await read(p.id)).score).toBe(5);
      await update(p.id, { city: 'Lyon' });
      await settle();
      expect((await read(p.id)).score).toBe(5);
      await update(p.id, { jobTitle: 'CTO' });
      await settle();
      await update(p.id, { jobTitle: 'ceo' });
      await settle();
      expect((await read(p.id)).score).toBe(10);
      await pause(id);
    });

    it('matches on activities and lists, removes from a list, and assigns round robin', async () => {
      const id = await rule({
        name: 'Form fillers to sales',
        matchType: 'all',
        conditions: [
          { kind: 'activity', type: 4 },
          { kind: 'list', listId: otherListId, member: true },
        ],
        actions: [
          { kind: 'removeFromList', listId: otherListId },
          { kind: 'assignRoundRobin', userIds: users },
        ],
      });
      const ids: number[] = [];
      for (const n of [1, 2, 3]) {
        const p = await create({ email: `filler${n}@example.com` });
        await post('/api/v5/objects/list-memberships?fields=id', { listId: otherListId, prospectId: p.id });
        ids.push(p.id);
      }
      await settle();
      expect(await Promise.all(ids.map(async (i) => (await read(i)).assignedToId))).toEqual([
        null,
        null,
        null,
      ]);
      for (const i of ids) await m.services.activities.record(m.v3Unit, { type: 4, prospectId: i });
      await settle();
      expect(await Promise.all(ids.map(async (i) => (await read(i)).assignedToId))).toEqual([
        users[0],
        users[1],
        users[0],
      ]);
      expect(await members(otherListId)).toEqual([]);
      await pause(id);
    });

    it('looks at prospects it did not see change on its schedule, and all of them after a rule is made', async () => {
      const before = await create({ email: 'before-the-rule@example.com', industry: 'Aerospace' });
      await settle();
      const id = await rule({
        name: 'Aerospace nurture',
        conditions: [{ kind: 'field', field: 'industry', op: 'contains', value: 'aero' }],
        actions: [{ kind: 'addToList', listId: otherListId }],
      });
      await settle();
      expect(await members(otherListId)).toEqual([]);
      await m.services.automation.runScheduled();
      expect(await members(otherListId)).toEqual([before.id]);
      await pause(id);
    });

    it('notifies by signed webhook, and tells subscribers of assignments and form successes, retrying failures', async () => {
      const id = await rule({
        name: 'Tell the team',
        conditions: [{ kind: 'field', field: 'grade', op: 'atLeast', value: 'B' }],
        actions: [
          { kind: 'notify', url: `${receiver.url}/notify` },
          { kind: 'assignUser', userId: users[1] },
        ],
      });
      const p = await create({ email: 'graded@example.com', grade: 'A-' });
      await create({ email: 'ungraded@example.com', grade: 'C' });
      await settle();
      // A form success, for the subscribers of form.success.
      const campaign = await post('/api/v5/objects/campaigns?fields=id', { name: 'Hooks' });
      const handler = await post('/api/v5/objects/form-handlers?fields=id', {
        name: 'Hook',
        campaignId: campaign.body.id,
      });
      await post('/api/v5/objects/form-handler-fields?fields=id', {
        formHandlerId: handler.body.id,
        name: 'email',
        prospectApiFieldId: 'email',
      });
      await fetch(`${m.url}/l/${m.v3Unit.id}/${handler.body.id as number}`, {
        method: 'POST',
        body: new URLSearchParams({ email: 'graded@example.com' }),
        redirect: 'manual',
      });
      // The receiver failed its first two calls; deliveries are tried again with backoff.
      const events = (): Json[] =>
        receiver.received.map((r) => ({ path: r.path, ...(JSON.parse(r.body) as Json) }));
      const find = (event: string) =>
        receiver.received.find(
          (r) =>
            (JSON.parse(r.body) as Json).event === event &&
            (JSON.parse(r.body) as { data: Json }).data.prospectId === p.id,
        );
      await expect
        .poll(() => ['automation.notify', 'prospect.assigned', 'form.success'].every((e) => find(e)), {
          timeout: 10_000,
        })
        .toBe(true);
      const byPath = { '/notify': find('automation.notify'), '/events': find('prospect.assigned') };
      expect(find('form.success')!.path).toBe('/events');
      expect(JSON.parse(find('form.success')!.body)).toMatchObject({
        data: { formHandlerId: handler.body.id, email: 'graded@example.com' },
      });
      expect(events().some((e) => e.path === '/notify' && e.event !== 'automation.notify')).toBe(false);
      const notify = byPath['/notify']!;
      expect(JSON.parse(notify.body)).toMatchObject({
        event: 'automation.notify',
        businessUnitId: m.v3Unit.id,
        data: { prospectId: p.id, ruleId: id },
      });
      const assigned = byPath['/events']!;
      const [t, v1] = String(assigned.headers['x-handoff-signature']).split(',');
      expect(v1).toBe(`v1=${webhookSignature(SECRET, t!.slice(2), assigned.body)}`);
      expect(JSON.parse(assigned.body)).toMatchObject({
        event: 'prospect.assigned',
        data: { prospectId: p.id },
      });
      const deliveries = () => selectDeliveries(m.services.database.db, m.v3Unit.id);
      await expect
        .poll(async () => (await deliveries()).filter((d) => d.status !== 'delivered'), { timeout: 10_000 })
        .toEqual([]);
      expect((await deliveries()).some((d) => d.attempts > 1)).toBe(true);
      await pause(id);
    });

    it('refuses a rule without conditions or with an unknown action, in the v5 error format', async () => {
      const empty = await post('/api/v5/objects/automation-rules?fields=id', {
        name: 'Empty',
        conditions: [],
        actions: [{ kind: 'adjustScore', points: 1 }],
      });
      expect(empty).toMatchObject({ status: 400, body: { code: 62 } });
      const unknown = await post('/api/v5/objects/automation-rules?fields=id', {
        name: 'Unknown',
        conditions: [{ kind: 'field', field: 'score', op: 'atLeast', value: 1 }],
        actions: [{ kind: 'sendFax' }],
      });
      expect(unknown).toMatchObject({ status: 400, body: { code: 62 } });
      expect(String(unknown.body.message)).toContain('actions');
    });
  });
}

describe('score decay: an inactivity rule on the schedule', () => {
  it('takes points off once per stretch without activity, and again after the next stretch', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const days = (n: number) => (clock += n * 86_400_000);
    const m = await startTestMarketing({ now: () => new Date(clock), automationIntervalMs: 3_600_000 });
    try {
      const r = await m.call('/api/v5/objects/automation-rules?fields=id', {
        method: 'POST',
        body: JSON.stringify({
          name: 'Decay',
          isRepeatable: true,
          conditions: [{ kind: 'inactive', days: 30 }],
          actions: [{ kind: 'adjustScore', points: -10 }],
        }),
      });
      expect(r.status).toBe(201);
      const p = await m.services.prospects.create(
        m.v3Unit,
        { type: 'api' },
        { email: 'quiet@example.com', score: 50 },
      );
      const score = async () => (await m.services.prospects.read(m.v3Unit.id, p.id)).values.score;
      await m.services.automation.runScheduled();
      expect(await score()).toBe(50);
      days(31);
      await m.services.automation.runScheduled();
      await m.services.automation.runScheduled();
      expect(await score()).toBe(40);
      // Activity ends the stretch (a page view, +1); the next 30 quiet days decay it again.
      await m.services.activities.record(m.v3Unit, { type: 2, prospectId: p.id });
      await m.services.automation.runPending();
      days(10);
      await m.services.automation.runScheduled();
      expect(await score()).toBe(41);
      days(25);
      await m.services.automation.runScheduled();
      expect(await score()).toBe(31);
    } finally {
      await m.close();
    }
  });
});
