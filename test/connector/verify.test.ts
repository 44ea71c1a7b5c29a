import type jsforce from 'jsforce';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, VerifyResult } from '../../src/connector/connector-services.js';
import { missCaptureWindow, openTestConnector, settleSync } from '../support/connector.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

/** The differences of a verify, each as `class object.field`, sorted. */
function found(result: VerifyResult): string[] {
  return result.differences.map((d) => `${d.class} ${d.crmObject}.${d.field ?? '*'}`).sort();
}

for (const dialect of DIALECTS) {
  describe(`handoff sync verify (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;
    const leadIds: string[] = [];
    let contactId: string;

    const settle = () => settleSync(connector);
    const missWindow = () => missCaptureWindow(m);
    const prospectOf = async (email: string): Promise<Json> =>
      (
        (
          await m.call(
            `/api/v5/objects/prospects?fields=id,email,jobTitle,phone,salesforceId&email=${encodeURIComponent(email)}`,
          )
        ).body as { values: Json[] }
      ).values[0]!;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      for (let i = 0; i < 6; i++) {
        const lead = (await conn.sobject('Lead').create({
          FirstName: `Vera${i}`,
          LastName: `Verify ${i}`,
          Company: 'Verify Co',
          Title: 'Analyst',
          Phone: `555-010${i}`,
          Email: `vera${i}@verify.example`,
          AnnualRevenue: 1_500_000,
          NumberOfEmployees: 40,
        })) as { id: string };
        leadIds.push(lead.id);
      }
      const account = (await conn.sobject('Account').create({ Name: 'Verify Account' })) as { id: string };
      contactId = (
        (await conn.sobject('Contact').create({
          LastName: 'Contact',
          Email: 'cora@verify.example',
          AccountId: account.id,
        })) as { id: string }
      ).id;
      connector = await openTestConnector(m);
      await connector.backfill();
      await settle();
    });

    afterAll(() => m.close());

    it('finds no difference when both sides agree, every mapped field compared', async () => {
      const used = async () =>
        (await connector.metrics(60)).reduce(
          (sum, m) => ({ crm: sum.crm + m.crmCalls, marketing: sum.marketing + m.marketingCalls }),
          { crm: 0, marketing: 0 },
        );
      const before = await used();
      const result = await connector.verify();
      // Its calls count against the connector's share of each side's daily limit, as a pass's do.
      expect(await used()).toEqual({
        crm: before.crm + result.calls.crm,
        marketing: before.marketing + result.calls.marketing,
      });
      expect(result.pairs).toBe(7);
      expect(found(result)).toEqual([]);
      // Both sides were read in bulk: a few calls, not one per pair.
      expect(result.calls.crm).toBeGreaterThan(0);
      expect(result.calls.crm).toBeLessThanOrEqual(12);
      expect(result.calls.marketing).toBeGreaterThan(0);
      expect(result.calls.marketing).toBeLessThanOrEqual(8);
    });

    it('calls a change the sync has not captured yet in flight, not drift', async () => {
      await conn.sobject('Lead').update({ Id: leadIds[0]!, Title: 'Captured soon' });
      const result = await connector.verify();
      expect(found(result)).toEqual(['in flight Lead.jobTitle']);
      await settle();
      expect(found(await connector.verify())).toEqual([]);
    });

    it('classifies drift on each side, conflicts, orphans and unlinked duplicates, and repairs them', async () => {
      // Behind the sync's back: a CRM edit, a v5 edit, an edit on both sides …
      await conn.sobject('Lead').update({ Id: leadIds[1]!, Title: 'Director' });
      const p2 = await prospectOf('vera2@verify.example');
      await m.call(`/api/v5/objects/prospects/${String(p2.id)}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ phone: '555-9999' }),
      });
      await conn.sobject('Lead').update({ Id: leadIds[3]!, Title: 'From the CRM' });
      const p3 = await prospectOf('vera3@verify.example');
      await m.call(`/api/v5/objects/prospects/${String(p3.id)}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'From marketing' }),
      });
      // … a Lead deleted and purged …
      await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'hardDelete',
        input: [{ Id: leadIds[4]! }],
        pollInterval: 50,
      });
      // … and a Lead and a prospect with one email, never linked.
      const twinLead = (await conn.sobject('Lead').create({
        LastName: 'Twin',
        Company: 'Twin Co',
        Email: 'twin@verify.example',
      })) as { id: string };
      await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'twin@verify.example', firstName: 'Twin' }),
      });
      await missWindow();

      const before = await connector.verify();
      expect(found(before)).toEqual([
        'conflict Lead.jobTitle',
        'drift Lead.jobTitle',
        'drift Lead.phone',
        'orphan Lead.*',
        'unlinked duplicate Lead.email',
      ]);
      const byClass = (c: string) => before.differences.filter((d) => d.class === c);
      expect(
        byClass('drift')
          .map((d) => [d.crmId, d.changed, d.crmValue, d.marketingValue])
          .sort(),
      ).toEqual(
        [
          [leadIds[1], 'crm', 'Director', 'Analyst'],
          [leadIds[2], 'marketing', '555-0102', '555-9999'],
        ].sort(),
      );
      expect(byClass('conflict')[0]).toMatchObject({ crmId: leadIds[3], changed: 'both' });
      expect(byClass('orphan')[0]).toMatchObject({ crmId: leadIds[4], orphan: 'crm gone' });
      expect(byClass('unlinked duplicate')[0]).toMatchObject({ crmId: twinLead.id });

      const repaired = await connector.verify({ repair: true });
      expect(repaired.repair).toMatchObject({ unlinked: 1, reported: 0 });
      await settle();
      const after = await connector.verify();
      expect(found(after)).toEqual([]);

      // Each side holds what the direction and policy say: the CRM's drift went to marketing,
      // marketing's to the CRM, and the conflict by the CRM-wins policy of jobTitle.
      expect((await prospectOf('vera1@verify.example')).jobTitle).toBe('Director');
      expect(((await conn.sobject('Lead').retrieve(leadIds[2]!)) as unknown as Json).Phone).toBe('555-9999');
      expect((await prospectOf('vera3@verify.example')).jobTitle).toBe('From the CRM');
      expect((await prospectOf('vera4@verify.example')).salesforceId).toBeNull();
      expect((await prospectOf('twin@verify.example')).salesforceId).toBe(twinLead.id);
      // Every repair is in the sync log.
      const logged = async (id: string) => (await connector.syncLog(id)).map((e) => `${e.toSide} ${e.field}`);
      expect(await logged(leadIds[1]!)).toContain('marketing jobTitle');
      expect(await logged(leadIds[2]!)).toContain('crm phone');
      expect(await logged(leadIds[3]!)).toContain('marketing jobTitle');
      expect(await logged(String(p2.id))).toContain('crm phone');
      expect((await connector.syncLog(leadIds[4]!)).at(-1)?.reason).toMatch(
        /verify repair: Lead .* is gone for good/,
      );
      expect(await logged(twinLead.id)).toContain('marketing *');
    });

    it('reads a Contact’s company through its Account, and finds its drift', async () => {
      const contact = (await conn.sobject('Contact').retrieve(contactId)) as unknown as Json;
      await conn.sobject('Account').update({ Id: String(contact.AccountId), Name: 'Renamed Account' });
      await missWindow();
      const result = await connector.verify();
      // The Account's rename does not touch the Contact's stamp: nothing tells the sync.
      expect(found(result)).toEqual(['drift Contact.company']);
      expect(result.differences[0]).toMatchObject({
        crmValue: 'Renamed Account',
        marketingValue: 'Verify Account',
      });
    });

    it('keeps each run for the console, and repairs one field at a time', async () => {
      await conn.sobject('Lead').update({ Id: leadIds[0]!, Title: 'Repaired alone' });
      await missWindow();
      const result = await connector.verify({ repair: { field: 'Lead.jobTitle' } });
      expect(found(result)).toEqual(['drift Contact.company', 'drift Lead.jobTitle']);
      expect(result.repair).toEqual({ queued: 1, unlinked: 0, reported: 0 });
      await settle();
      expect(found(await connector.verify())).toEqual(['drift Contact.company']);
      // Newest first, each with its counts (the trend) and its differences.
      const runs = await connector.verifyRuns();
      expect(
        runs.slice(0, 2).map((r) => [r.pairs, r.differenceCount, r.byClass.drift, r.repair?.queued]),
      ).toEqual([
        [result.pairs, 1, 1, undefined],
        [result.pairs, 2, 2, 1],
      ]);
      const run = await connector.verifyRun(runs[0]!.id);
      expect(run?.differences).toMatchObject([{ class: 'drift', crmId: contactId, field: 'company' }]);
    });

    it('verifies on its schedule while the sync runs, and repairs what it finds', async () => {
      const before = (await connector.verifyRuns(1))[0]!.id;
      const scheduled = await openTestConnector(m, m.v3Unit.id, undefined, undefined, m.crm.database, {
        // Due a second after the last run (a day, nightly, in production).
        verify: { everyHours: 1 / 3600, repair: true },
        changeEvents: false,
      });
      scheduled.start(60_000);
      try {
        // The last run is older than the interval: one runs as the sync starts.
        await expect
          .poll(async () => (await scheduled.verifyRuns(1))[0]!.id, { timeout: 20_000, interval: 100 })
          .toBeGreaterThan(before);
        const [run] = await scheduled.verifyRuns(1);
        expect(run).toMatchObject({ differenceCount: 1, repair: { queued: 1, unlinked: 0, reported: 0 } });
      } finally {
        await scheduled.stop();
      }
      await settle();
      expect(found(await connector.verify())).toEqual([]);
    });

    it('tells a record in its recycle bin from one purged, and the repair follows the deletion', async () => {
      await conn.sobject('Lead').destroy(leadIds[5]!);
      await missWindow();
      const before = await connector.verify();
      expect(found(before)).toEqual(['orphan Lead.*']);
      expect(before.differences[0]).toMatchObject({
        crmId: leadIds[5],
        orphan: 'crm deleted',
        changed: 'crm',
      });
      const prospectId = before.differences[0]!.prospectId!;
      const repaired = await connector.verify({ repair: true });
      expect(repaired.repair).toEqual({ queued: 1, unlinked: 0, reported: 0 });
      await settle();
      // As the sync does with a deletion it sees: the prospect follows to its recycle bin.
      const prospect = (await m.call(`/api/v5/objects/prospects/${prospectId}?fields=isDeleted&deleted=all`))
        .body as Json;
      expect(prospect.isDeleted).toBe(true);
      expect(found(await connector.verify())).toEqual([]);
    });

    it('calls a pair the sync saved after the read began in flight, not drift or an orphan', async () => {
      // Both sides' jobs start before the links are read, so a pair the sync links or syncs
      // meanwhile may have records read from before that: a Lead made after the CRM's job began
      // is not in its results, though its link is.
      const late = (await conn.sobject('Lead').create({
        LastName: 'Late',
        Company: 'Late Co',
        Email: 'late@verify.example',
      })) as { id: string };
      // (Made past the capture cursors the last test moved: a backfill links it.)
      expect((await connector.backfill({ restart: true })).linked).toBe(1);
      await settle();
      await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'hardDelete',
        input: [{ Id: late.id }],
        pollInterval: 50,
      });
      await conn.sobject('Lead').update({ Id: leadIds[0]!, Title: 'Read before the sync' });
      await missWindow();
      expect(found(await connector.verify())).toEqual(['drift Lead.jobTitle', 'orphan Lead.*']);

      // The two links as the sync leaves them when it saves them while the verify reads.
      const stamp = async (at: string) => {
        for (const id of [late.id, leadIds[0]!])
          await sql`update connector_link set updated_at = ${at} where crm_id = ${id}`.execute(
            m.crm.database.db,
          );
      };
      await stamp(new Date(Date.now() + 60_000).toISOString());
      const during = await connector.verify();
      expect(found(during)).toEqual(['in flight Lead.*', 'in flight Lead.jobTitle']);
      expect(during.differences.map((d) => d.crmId).sort()).toEqual([late.id, leadIds[0]!].sort());

      // Saved before the read, they are what they were, and the repair settles them.
      await stamp(new Date(Date.now() - 60_000).toISOString());
      expect(found(await connector.verify())).toEqual(['drift Lead.jobTitle', 'orphan Lead.*']);
      await connector.verify({ repair: true });
      await settle();
      expect(found(await connector.verify())).toEqual([]);
    });
  });
}
