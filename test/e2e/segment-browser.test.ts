import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, startSite } from '../support/browser.js';
import { startTestIngest, type TestIngest } from '../support/ingest-server.js';

type Json = Record<string, unknown>;

/**
 * A customer's page with Segment's snippet, as Segment gives it in shape (a call queue on
 * `window.analytics`, the write key and the CDN on it, the SDK loaded from the CDN), the CDN being
 * the ingest. analytics-next itself (`@segment/analytics-next`, unchanged) is served by the ingest.
 */
function segmentPage(ingestUrl: string, writeKey: string): string {
  return `<!doctype html><html><head><title>Pricing</title><script>
!function(){
  var analytics = window.analytics = window.analytics || [];
  if (analytics.initialize) return;
  analytics.methods = ['page', 'identify', 'track', 'alias', 'group', 'ready', 'reset'];
  analytics.factory = function (method) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      args.unshift(method);
      analytics.push(args);
      return analytics;
    };
  };
  for (var i = 0; i < analytics.methods.length; i++) {
    var key = analytics.methods[i];
    analytics[key] = analytics.factory(key);
  }
  analytics._writeKey = ${JSON.stringify(writeKey)};
  analytics._cdn = ${JSON.stringify(ingestUrl)};
  analytics.load = function (key, options) {
    var script = document.createElement('script');
    script.type = 'text/javascript';
    script.async = true;
    script.src = analytics._cdn + '/analytics.js/v1/' + key + '/analytics.min.js';
    var first = document.getElementsByTagName('script')[0];
    first.parentNode.insertBefore(script, first);
    analytics._loadOptions = options;
  };
  analytics.SNIPPET_VERSION = '5.2.0';
  analytics.load(${JSON.stringify(writeKey)});
  analytics.page();
}();
</script></head><body><h1>Pricing</h1></body></html>`;
}

/** RudderStack's browser SDK as a customer installs it from npm: its bundled build, on their page. */
function rudderstackSdk(): string {
  const require = createRequire(import.meta.url);
  // The package's main entry is dist/npm/modern/cjs/index.cjs; its bundled browser build sits beside.
  const main = require.resolve('@rudderstack/analytics-js');
  return readFileSync(join(dirname(main), '..', 'bundled', 'umd', 'index.js'), 'utf8');
}

function rudderstackPage(ingestUrl: string, writeKey: string): string {
  return `<!doctype html><html><head><title>Docs</title><script src="/rsa.js"></script><script>
  window.rs = new rudderanalytics.RudderAnalytics();
  rs.load(${JSON.stringify(writeKey)}, ${JSON.stringify(ingestUrl)}, {
    configUrl: ${JSON.stringify(`${ingestUrl}/v1/rudderstack`)},
    plugins: [],
  });
  rs.page();
</script></head><body><h1>Docs</h1></body></html>`;
}

/** The ingest's paths a page called, as they finished. */
function requestsTo(page: Page, ingestUrl: string): string[] {
  const sent: string[] = [];
  page.on('requestfinished', (request) => {
    if (request.url().startsWith(`${ingestUrl}/v1/`))
      sent.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });
  return sent;
}

/** The prospect of an email and the kinds of its external activities, read through v5. */
async function prospectWithActivities(t: TestIngest, email: string) {
  const unit = t.m.v3Unit.id;
  const path = `/api/v5/objects/prospects?fields=id,email,firstName&email=${encodeURIComponent(email)}`;
  const found = (await t.m.call(path, { unit })).body as { values: Json[] };
  const [prospect] = found.values;
  const activities = prospect
    ? ((
        await t.m.call(
          `/api/v5/objects/external-activities?fields=type,value&prospectId=${String(prospect.id)}`,
          {
            unit,
          },
        )
      ).body as { values: Json[] })
    : { values: [] };
  return {
    prospects: found.values,
    kinds: activities.values.map((a) => `${String(a.type)}:${String(a.value)}`),
  };
}

describe.runIf(hasChromium())(
  'Segment’s and RudderStack’s browser SDKs against the ingest, in chromium',
  () => {
    let t: TestIngest;
    let browser: Browser;
    let site: { url: string; close(): Promise<void> };
    // The site's pages: a test may add one for a source it makes.
    const pages: Record<string, string> = {};

    beforeAll(async () => {
      t = await startTestIngest();
      browser = await launchChromium();
      Object.assign(pages, {
        '/pricing': segmentPage(t.url, t.v3.writeKey),
        '/docs': rudderstackPage(t.url, t.v3.writeKey),
        '/rsa.js': rudderstackSdk(),
      });
      site = await startSite(pages);
    });

    afterAll(async () => {
      await browser?.close();
      await site?.close();
      await t?.close();
    });

    it('sends an anonymous page view, then identify and track, and they land on one prospect', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const sent = requestsTo(page, t.url);
      await page.goto(`${site.url}/pricing`);
      // The SDK replaces the snippet's queue with itself once it has its settings.
      await page.waitForFunction(() => {
        const a = (globalThis as unknown as { analytics?: unknown }).analytics;
        return Boolean(a) && !Array.isArray(a);
      });
      await page.evaluate(async () => {
        const analytics = (
          globalThis as unknown as {
            analytics: {
              identify(id: string, traits: Json): Promise<unknown>;
              track(event: string, properties: Json): Promise<unknown>;
            };
          }
        ).analytics;
        await analytics.identify('browser-user-1', { email: 'browser@example.com', firstName: 'Bea' });
        await analytics.track('Trial Started', { plan: 'pro' });
      });
      // The SDK resolves a call once it is queued; the requests follow.
      await expect
        .poll(() => sent, { timeout: 15_000 })
        .toEqual(
          expect.arrayContaining([
            'GET /v1/projects/' + t.v3.writeKey + '/settings',
            'POST /v1/p',
            'POST /v1/i',
            'POST /v1/t',
          ]),
        );
      await t.settled();
      const { prospects, kinds } = await prospectWithActivities(t, 'browser@example.com');
      expect(prospects).toHaveLength(1);
      expect(prospects[0]).toMatchObject({ email: 'browser@example.com', firstName: 'Bea' });
      // The page view made before the person was known, and the track after.
      expect(kinds.some((k) => /page/i.test(k))).toBe(true);
      expect(kinds.some((k) => /Trial Started/.test(k))).toBe(true);
      await context.close();
    });

    it('takes RudderStack’s browser SDK the same way: its config, then page, identify and track', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const sent = requestsTo(page, t.url);
      await page.goto(`${site.url}/docs`);
      await page.evaluate(() => {
        const rs = (
          globalThis as unknown as {
            rs: { identify(id: string, traits: Json): void; track(event: string, properties: Json): void };
          }
        ).rs;
        rs.identify('rudder-user-1', { email: 'rudder@example.com', firstName: 'Rui' });
        rs.track('Trial Started', { plan: 'team' });
      });
      await expect
        .poll(() => sent, { timeout: 15_000 })
        .toEqual(
          expect.arrayContaining([
            'GET /v1/rudderstack/sourceConfig/',
            'POST /v1/page',
            'POST /v1/identify',
            'POST /v1/track',
          ]),
        );
      await t.settled();
      const { prospects, kinds } = await prospectWithActivities(t, 'rudder@example.com');
      expect(prospects).toHaveLength(1);
      expect(prospects[0]).toMatchObject({ firstName: 'Rui' });
      expect(kinds.some((k) => /page/i.test(k))).toBe(true);
      expect(kinds.some((k) => /Trial Started/.test(k))).toBe(true);
      await context.close();
    });

    it('loads the engine’s tracking script through analytics.js when the source enables Account Engagement, and its visit lands on the identified prospect', async () => {
      const unit = t.m.v3Unit;
      // The tracker answers a page's visitor cookies only to the unit's own sites.
      await t.m.services.units.updateSettings(unit.id, { trackerDomains: [site.url] });
      const { writeKey } = await t.addSource('with tracking', {
        apiVersion: 3,
        businessUnitId: unit.id,
        accountId: String(unit.trackingId),
      });
      const settings = (await (await fetch(`${t.url}/v1/projects/${writeKey}/settings`)).json()) as {
        integrations: Record<string, Json>;
      };
      expect(settings.integrations.Pardot).toMatchObject({
        piAId: String(unit.trackingId),
        piHostname: new URL(t.m.url).host,
      });
      pages['/device'] = segmentPage(t.url, writeKey);

      const context = await browser.newContext();
      const page = await context.newPage();
      const loaded: string[] = [];
      page.on('requestfinished', (request) => {
        const url = new URL(request.url());
        if (url.origin === t.m.url || url.pathname.startsWith('/next-integrations/'))
          loaded.push(url.pathname);
      });
      await page.goto(`${site.url}/device`);
      // analytics.js loads the integration, which loads pd.js, which counts the page view.
      await expect
        .poll(() => loaded, { timeout: 15_000 })
        .toEqual(
          expect.arrayContaining([
            '/next-integrations/integrations/pardot/1.0.0/pardot.dynamic.js.gz',
            '/pd.js',
            '/analytics',
          ]),
        );
      const visitorCookie = `visitor_id${unit.trackingId - 1000}`;
      await expect
        .poll(async () => (await context.cookies(site.url)).map((c) => c.name), { timeout: 10_000 })
        .toContain(visitorCookie);
      const visitorId = Number(
        (await context.cookies(site.url)).find((c) => c.name === visitorCookie)!.value,
      );

      await page.evaluate(async () => {
        const analytics = (
          globalThis as unknown as { analytics: { identify(id: string, traits: Json): Promise<unknown> } }
        ).analytics;
        await analytics.identify('device-user-1', { email: 'device@example.com', firstName: 'Dee' });
      });
      // The integration ties the visitor to the prospect in the browser; the ingest sets the
      // traits from the server side. One prospect, with the visitor, its visit and page view.
      const read = (path: string) =>
        t.m.call(path, { unit: unit.id }).then((r) => r.body as { values: Json[] });
      const visitorPath = `/api/v5/objects/visitors/${visitorId}?fields=id,prospectId`;
      await expect
        .poll(async () => ((await read(visitorPath)) as unknown as Json).prospectId ?? null, {
          timeout: 15_000,
        })
        .not.toBeNull();
      await t.settled();
      const { prospects } = await prospectWithActivities(t, 'device@example.com');
      expect(prospects).toHaveLength(1);
      expect(prospects[0]).toMatchObject({ firstName: 'Dee' });
      const prospectId = prospects[0]!.id;
      const visitor = (await read(visitorPath)) as unknown as Json;
      expect(visitor.prospectId).toBe(prospectId);
      const visits = await read(
        `/api/v5/objects/visits?fields=id,visitorId,prospectId&prospectId=${String(prospectId)}`,
      );
      expect(visits.values).toEqual([expect.objectContaining({ visitorId, prospectId })]);
      const views = await read(
        `/api/v5/objects/visitor-activities?fields=type,visitorId&prospectId=${String(prospectId)}&type=2`,
      );
      // The page counted once: by pd.js in the browser, not again from the SDK's page call.
      expect(views.values).toEqual([expect.objectContaining({ type: 2, visitorId })]);
      await context.close();
    });

    it('refuses a page from an origin the source does not take', async () => {
      const { writeKey } = await t.addSource('locked', {
        apiVersion: 3,
        businessUnitId: t.m.v3Unit.id,
        allowedOrigins: ['https://www.example.com'],
      });
      const answer = await fetch(`${t.url}/v1/t`, {
        method: 'POST',
        headers: { origin: site.url, 'content-type': 'text/plain' },
        body: JSON.stringify({ writeKey, userId: 'u', event: 'x' }),
      });
      expect(answer.status).toBe(403);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      const settings = await fetch(`${t.url}/v1/projects/${writeKey}/settings`, {
        headers: { origin: 'https://www.example.com' },
      });
      expect(settings.headers.get('access-control-allow-origin')).toBe('https://www.example.com');
      expect(((await settings.json()) as { integrations: Json }).integrations['Segment.io']).toMatchObject({
        apiKey: writeKey,
      });
    });
  },
);
