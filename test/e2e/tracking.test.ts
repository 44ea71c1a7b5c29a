import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, startSite, trackedPage } from '../support/browser.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;
type Tracker = { piTracker?: { ready: Promise<Json>; optIn(): Promise<Json>; optOut(): void } };

/** Waits for pd.js to load and answer; returns the engine's answer (`tracked` …). */
async function tracked(page: Page): Promise<Json> {
  await page.waitForFunction(() => Boolean((globalThis as unknown as Tracker).piTracker?.ready));
  return page.evaluate(() => (globalThis as unknown as Tracker).piTracker!.ready);
}

describe.runIf(hasChromium())('tracking in a real browser (chromium)', () => {
  let m: TestMarketing;
  let browser: Browser;
  let site: { url: string; close(): Promise<void> };
  let campaignId: number;
  let adCampaignId: number;
  let formId: number;

  const v5 = async (path: string, init: RequestInit & { unit?: string } = {}) => {
    const r = await m.call(path, init);
    expect(r.status, r.text).toBeLessThan(300);
    return r.body as Json;
  };
  const values = (r: Json) => r.values as Json[];

  beforeAll(async () => {
    m = await startTestMarketing();
    browser = await launchChromium();
    const post = (path: string, body: Json, unit?: string) =>
      v5(path, { method: 'POST', body: JSON.stringify(body), unit });
    campaignId = (await post('/api/v5/objects/campaigns?fields=id', { name: 'Website' })).id as number;
    adCampaignId = (await post('/api/v5/objects/campaigns?fields=id', { name: 'Search ads' })).id as number;
    formId = (
      await post('/api/v5/objects/forms?fields=id', {
        name: 'Contact us',
        campaignId,
        thankYouContent: 'Thanks, we will be in touch.',
      })
    ).id as number;
    for (const [sortOrder, prospectApiFieldId, label, isRequired] of [
      [1, 'email', 'Email', true],
      [2, 'firstName', 'First name', true],
      [3, 'company', 'Company', false],
    ] as const) {
      await post('/api/v5/objects/form-fields?fields=id', {
        formId,
        prospectApiFieldId,
        label,
        isRequired,
        sortOrder,
      });
    }
    // The v4 unit asks for consent before anything is tracked.
    await m.services.units.updateSettings(m.v4Unit.id, { requireTrackingConsent: true });
    const engineHost = new URL(m.url).host;
    const v3 = { piAId: m.v3Unit.trackingId, piCId: campaignId, engineHost };
    site = await startSite({
      '/': trackedPage({ ...v3, title: 'Home' }),
      '/pricing': trackedPage({ ...v3, title: 'Pricing' }),
      '/contact': trackedPage({
        ...v3,
        title: 'Contact',
        body: `<iframe id="contact" title="Contact us" width="600" height="500" src="${m.url}/form/${m.v3Unit.id}/${formId}"></iframe>`,
      }),
      '/consent': trackedPage({ piAId: m.v4Unit.trackingId, engineHost, title: 'Consent first' }),
    });
    // The site is each unit's tracker domain: its pages may read the tracker's answers.
    for (const unit of [m.v3Unit, m.v4Unit])
      await m.services.units.updateSettings(unit.id, { trackerDomains: [site.url] });
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await m?.close();
  });

  it('tracks two anonymous page views, then a form submission, as one prospect with its visitor', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Arriving from an ad: the page URL's campaign wins over the snippet's piCId.
    await page.goto(`${site.url}/?pi_campaign_id=${adCampaignId}`);
    const first = await tracked(page);
    expect(first).toMatchObject({ tracked: true });
    await page.goto(`${site.url}/pricing`);
    const second = await tracked(page);
    // The same visitor, kept in its cookie between pages.
    expect(second.visitorId).toBe(first.visitorId);
    const cookies = await context.cookies(site.url);
    const cookieName = `visitor_id${m.v3Unit.trackingId - 1000}`;
    expect(cookies.find((c) => c.name === cookieName)?.value).toBe(String(first.visitorId));

    await page.goto(`${site.url}/contact`);
    await tracked(page);
    const form = page.frameLocator('#contact');
    // pd.js hands the visitor to the form's frame.
    await expect
      .poll(() => page.locator('#contact').getAttribute('src'))
      .toContain(`visitor_id=${first.visitorId}`);
    // A submission with an error shows the form again, the error beside its field.
    await form.getByLabel('Email').fill('browser@example.com');
    await form.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => form.getByRole('alert').first().textContent()).toContain('Please correct');
    expect(await form.locator('#pi_firstName_error').textContent()).toBe('This field is required');
    expect(await form.getByLabel('Email').inputValue()).toBe('browser@example.com');
    await form.getByLabel('First name').fill('Grace');
    await form.getByLabel('Company').fill('Navy');
    await form.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => form.getByRole('status').textContent()).toBe('Thanks, we will be in touch.');

    const prospects = values(
      await v5(
        `/api/v5/objects/prospects?fields=id,email,firstName,company,score,campaignId&email=browser@example.com`,
      ),
    );
    expect(prospects).toHaveLength(1);
    const prospect = prospects[0]!;
    // Three page views (+1 each) and the form success (+50).
    expect(prospect).toMatchObject({ firstName: 'Grace', company: 'Navy', score: 53 });
    const activities = values(
      await v5(
        `/api/v5/objects/visitor-activities?fields=type,typeName,details,visitorId,formId,campaignId&prospectId=${prospect.id}&orderBy=id`,
      ),
    );
    expect(activities.map((a) => [a.type, a.details ?? a.formId, a.campaignId])).toEqual([
      [2, 'Home', adCampaignId],
      [2, 'Pricing', campaignId],
      [2, 'Contact', campaignId],
      [4, formId, campaignId],
    ]);
    expect(new Set(activities.map((a) => a.visitorId))).toEqual(new Set([first.visitorId]));
    const visitors = values(
      await v5(`/api/v5/objects/visitors?fields=id,prospectId,pageViewCount&prospectId=${prospect.id}`),
    );
    expect(visitors).toEqual([{ id: first.visitorId, prospectId: prospect.id, pageViewCount: 3 }]);
    await context.close();
  });

  it('tracks nothing of a visitor who opted out, or who has not consented where consent is required', async () => {
    const before = values(await v5('/api/v5/objects/visitors?fields=id')).length;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.url}/`);
    await tracked(page);
    await page.evaluate(() => (globalThis as unknown as Tracker).piTracker!.optOut());
    await page.goto(`${site.url}/pricing`);
    expect(await tracked(page)).toEqual({ tracked: false });
    const names = (await context.cookies(site.url)).map((c) => c.name);
    expect(names).not.toContain(`visitor_id${m.v3Unit.trackingId - 1000}`);
    // The first page made one visitor; the opted-out page made none and viewed nothing.
    expect(values(await v5('/api/v5/objects/visitors?fields=id')).length).toBe(before + 1);

    await page.goto(`${site.url}/consent`);
    expect(await tracked(page)).toEqual({ tracked: false });
    const v4Visitors = () =>
      v5('/api/v5/objects/visitors?fields=id,pageViewCount', { unit: m.v4Unit.id }).then(values);
    expect(await v4Visitors()).toEqual([]);
    const consented = await page.evaluate(() => (globalThis as unknown as Tracker).piTracker!.optIn());
    expect(consented).toMatchObject({ tracked: true });
    expect(await v4Visitors()).toEqual([{ id: consented.visitorId, pageViewCount: 1 }]);
    await context.close();
  });
});
