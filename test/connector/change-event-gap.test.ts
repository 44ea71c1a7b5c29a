import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { saveCursor, selectCursor } from '../../src/connector/store/link-store.js';
import { openTestConnector } from '../support/connector.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

const WAIT = { timeout: 15_000, interval: 50 };
/** Longer than the test: what happens here comes from events or from the gap, not a poll. */
const SAFETY_MS = 3_600_000;

describe('a change-event gap: events lost while the connector was away are reconciled by query', () => {
  let m: TestMarketing;
  let conn: jsforce.Connection;
  let connector: Connector | undefined;

  beforeAll(async () => {
    m = await startTestMarketing();
    conn = await m.crm.connect();
  });

  afterAll(async () => {
    await connector?.stop();
    await m.close();
  });

  const open = () =>
    openTestConnector(m, m.v3Unit.id, undefined, undefined, undefined, {
      coalesceMs: 50,
      safetyPollMs: SAFETY_MS,
    });
  const linked = async (email: string) =>
    (await m.services.prospects.byEmail(m.v3Unit.id, email))[0]?.values.salesforceId ?? null;
  const newLead = async (email: string) =>
    (
      (await conn.sobject('Lead').create({ LastName: 'Gap', Company: 'Gap Co', Email: email })) as {
        id: string;
      }
    ).id;

  it('resumes from its replay id after a short stop, missing nothing', async () => {
    connector = await open();
    connector.start(SAFETY_MS);
    expect(await connector.changeEventsReady()).toBe(true);
    await newLead('before-stop@gap.example');
    await expect.poll(() => linked('before-stop@gap.example'), WAIT).not.toBeNull();
    await connector.stop();
    expect(await selectCursor(m.crm.database.db, `${m.v3Unit.id}:change-events`)).toMatch(/^\d+$/);
    expect(await selectCursor(m.crm.database.db, `${m.v3Unit.id}:change-events-at`)).toEqual(
      expect.any(String),
    );
  });

  it('notices a replay id older than the retention window, says so, and queries the CRM for the window', async () => {
    // Away for three days: the saved replay id's event is past the 72-hour retention.
    const unit = m.v3Unit.id;
    const replayId = Number(await selectCursor(m.crm.database.db, `${unit}:change-events`));
    const threeDaysAgo = new Date(Date.now() - 73 * 3_600_000).toISOString();
    await saveCursor(m.crm.database.db, `${unit}:change-events-at`, threeDaysAgo);
    await newLead('while-away@gap.example');

    connector = await open();
    connector.start(SAFETY_MS);
    await expect
      .poll(async () => (await connector!.status()).changeEventGap, WAIT)
      .toMatchObject({
        replayId,
        lastEventAt: threeDaysAgo,
        reason: expect.stringContaining('older than the 72-hour retention') as unknown,
      });
    await expect.poll(() => linked('while-away@gap.example'), WAIT).not.toBeNull();
    // The stream starts over with new events: a Lead made now crosses by its event.
    expect(await connector.changeEventsReady()).toBe(true);
    await newLead('after-gap@gap.example');
    await expect.poll(() => linked('after-gap@gap.example'), WAIT).not.toBeNull();
    await connector.stop();
  });

  it('takes the org’s refusal of a replay id it no longer keeps as a gap too', async () => {
    const unit = m.v3Unit.id;
    // An id the org does not have: it answers 400 "The replayId … you provided was invalid".
    await saveCursor(m.crm.database.db, `${unit}:change-events`, '987654');
    await saveCursor(m.crm.database.db, `${unit}:change-events-at`, new Date().toISOString());
    await newLead('refused@gap.example');
    connector = await open();
    connector.start(SAFETY_MS);
    await expect.poll(async () => (await connector!.status()).changeEventGap?.replayId, WAIT).toBe(987654);
    expect((await connector.status()).changeEventGap?.reason).toMatch(/the org refused the saved replay id/);
    await expect.poll(() => linked('refused@gap.example'), WAIT).not.toBeNull();
    await newLead('after-refusal@gap.example');
    await expect.poll(() => linked('after-refusal@gap.example'), { ...WAIT, timeout: 30_000 }).not.toBeNull();
  });
});
