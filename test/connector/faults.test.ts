import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { openTestConnector } from '../support/connector.js';
import type { PassResult } from '../../src/connector/sync-types.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

/** Pairs changed on both sides under faults (and new Leads beside them). */
const RECORDS = 5_000;
const NEW_LEADS = 500;

describe('the connector under fault injection', () => {
  let m: TestMarketing;
  let conn: jsforce.Connection;
  let connector: Connector;

  beforeAll(async () => {
    m = await startTestMarketing();
    conn = await m.crm.connect();
    connector = await openTestConnector(m);
    await connector.runOnce();
  });

  afterAll(async () => {
    m.crm.services.faults.clear();
    m.services.faults.clear();
    await m.close();
  });

  /**
   * Passes until one writes nothing, fails nothing and leaves nothing queued; a pass that throws
   * is simply run again.
   */
  async function converge(maxPasses: number): Promise<{ passes: number; last: PassResult | null }> {
    let last: PassResult | null = null;
    for (let passes = 1; passes <= maxPasses; passes++) {
      try {
        last = await connector.runOnce();
        const wrote = last.writesToCrm + last.writesToMarketing + last.created + last.leadsCreated;
        if (wrote === 0 && last.errors.length === 0 && last.waiting === 0) return { passes, last };
        // Items waiting out a retry are due in a moment.
        if (last.waiting) await new Promise((resolve) => setTimeout(resolve, 50));
      } catch {
        last = null;
      }
    }
    return { passes: maxPasses, last };
  }

  it('converges with 5xx, limits, locks, lost answers and latency on both sides: nothing lost, nothing doubled, no ping-pong', async () => {
    // Existing pairs, synced without faults.
    const emails = Array.from({ length: RECORDS }, (_, i) => `fault${i}@example.com`);
    const ids: string[] = [];
    for (let i = 0; i < RECORDS; i += 200) {
      const saved = (await conn.sobject('Lead').create(
        emails
          .slice(i, i + 200)
          .map((Email, j) => ({ LastName: `Fault ${i + j}`, Company: 'Fault Co', Email })),
        { allOrNone: true },
      )) as Array<{ id: string }>;
      ids.push(...saved.map((s) => s.id));
    }
    await converge(10);
    const prospects = await Promise.all(emails.map((e) => m.services.prospects.byEmail(m.v3Unit.id, e)));
    expect(prospects.every((p) => p.length === 1)).toBe(true);

    // Changes on both sides, and new Leads, before the faults start.
    for (let i = 0; i < ids.length; i += 200) {
      await conn.sobject('Lead').update(
        ids.slice(i, i + 200).map((Id, j) => ({ Id, Phone: `crm-${i + j}` })),
        { allOrNone: true },
      );
    }
    for (const [i, [p]] of prospects.entries()) {
      await m.services.prospects.update(m.v3Unit, { type: 'api' }, p!.id, { jobTitle: `mkt-${i}` });
    }
    const newEmails = Array.from({ length: NEW_LEADS }, (_, i) => `fault-new${i}@example.com`);
    for (let i = 0; i < newEmails.length; i += 200) {
      await conn.sobject('Lead').create(
        newEmails
          .slice(i, i + 200)
          .map((Email, j) => ({ LastName: `New ${i + j}`, Company: 'Fault Co', Email })),
        { allOrNone: true },
      );
    }

    for (const rule of [
      { route: '* /services/data/**', fault: 'error-500', probability: 0.1 },
      { route: '* /services/data/**', fault: 'latency', probability: 0.1, latencyMs: 20 },
      { route: 'PATCH /services/data/*/composite/sobjects', fault: 'lock', probability: 0.1 },
      { route: 'PATCH /services/data/*/composite/sobjects', fault: 'lost-answer', probability: 0.1 },
      { route: '* /services/data/**', fault: 'request-limit', probability: 0.03 },
    ]) {
      m.crm.services.faults.add(rule);
    }
    for (const rule of [
      { route: '* /api/v5/**', fault: 'error-500', probability: 0.1 },
      { route: '* /api/v5/**', fault: 'concurrency-66', probability: 0.05 },
      { route: 'POST /api/v5/objects/prospects', fault: 'lost-answer', probability: 0.2 },
      { route: 'PATCH /api/v5/objects/prospects/*', fault: 'lost-answer', probability: 0.1 },
      { route: '* /api/v5/**', fault: 'latency', probability: 0.1, latencyMs: 20 },
    ]) {
      m.services.faults.add(rule);
    }
    // Converged with the faults still on: a pass that wrote nothing, failed nothing, left nothing.
    const underFaults = await converge(300);
    expect(underFaults.last).toMatchObject({ errors: [], waiting: 0, writesToCrm: 0, writesToMarketing: 0 });
    m.crm.services.faults.clear();
    m.services.faults.clear();

    // Nothing lost: every change is on both sides.
    const leads = (
      await conn.query<{ Id: string; Email: string; Phone: string; Title: string }>(
        "SELECT Id, Email, Phone, Title FROM Lead WHERE Company = 'Fault Co'",
        { autoFetch: true, maxFetch: 10_000 },
      )
    ).records;
    expect(leads).toHaveLength(RECORDS + newEmails.length);
    const leadByEmail = new Map(leads.map((l) => [l.Email, l]));
    for (const [i, email] of emails.entries()) {
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, email);
      const lead = leadByEmail.get(email)!;
      expect([p!.values.phone, p!.values.jobTitle, lead.Phone, lead.Title]).toEqual([
        `crm-${i}`,
        `mkt-${i}`,
        `crm-${i}`,
        `mkt-${i}`,
      ]);
    }
    // Nothing doubled: one prospect for each new Lead, though creates lost their answers.
    for (const email of newEmails)
      expect(await m.services.prospects.byEmail(m.v3Unit.id, email)).toHaveLength(1);
    // No ping-pong: once settled, passes write nothing.
    const quiet = await connector.runOnce();
    expect(quiet.writesToCrm + quiet.writesToMarketing + quiet.created).toBe(0);
  }, 600_000);
});
