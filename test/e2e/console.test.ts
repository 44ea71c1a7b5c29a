import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type jsforce from 'jsforce';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountEngagementClient } from '../../src/clients/account-engagement/ae-client.js';
import { connectCrm } from '../../src/clients/salesforce/crm-connection.js';
import { SalesforceTokenSource } from '../../src/clients/salesforce-oauth.js';
import { resolveConfig } from '../../src/cli/config.js';
import { startServers, type RunningServers } from '../../src/cli/servers.js';
import { hasChromium, launchChromium } from '../support/browser.js';
import { noInternsRule } from '../support/factories.js';

type Json = Record<string, unknown>;

/** Where the tests leave a screenshot of each page (git-ignored), for a person to look at. */
const SCREENSHOTS = join(process.cwd(), 'test/e2e/screenshots');
/**
 * The sync runs every second in the demo; what a test waits for arrives within a few passes,
 * but a loaded machine (the whole suite in parallel) can make that many seconds.
 */
const SYNC_WAIT = { timeout: 60_000, interval: 250 };
const TEST_TIMEOUT = 120_000;

describe.runIf(hasChromium())(
  'the console in a real browser (chromium), on the demo',
  { timeout: TEST_TIMEOUT },
  () => {
    let dataDir: string;
    let servers: RunningServers;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let crm: jsforce.Connection;
    let marketing: AccountEngagementClient;
    let consoleUrl: string;

    const shot = (name: string) =>
      page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    const go = async (hash: string) => {
      await page.goto(`${consoleUrl}/#/${hash}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
    };
    /** A new Lead in the CRM (as a sales user would make it), once the sync has linked its new prospect. */
    const newLinkedLead = async (email: string, fields: Json = {}) => {
      const saved = await crm
        .sobject('Lead')
        .create({ LastName: 'Tester', Company: 'Acme', Email: email, ...fields });
      const leadId = (saved as { id: string }).id;
      let prospectId = 0;
      await expect
        .poll(
          async () => (prospectId = (await servers.connector!.linkOf(leadId))?.prospectId ?? 0),
          SYNC_WAIT,
        )
        .toBeGreaterThan(0);
      return { leadId, prospectId };
    };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'handoff-console-'));
      mkdirSync(SCREENSHOTS, { recursive: true });
      const config = resolveConfig(
        {
          dataDir,
          host: '127.0.0.1',
          crmPort: '0',
          marketingPort: '0',
          ingestPort: '0',
          consolePort: '0',
        },
        {},
        dataDir,
      );
      servers = await startServers(config, { set: 'demo', sampleData: true, log: () => undefined });
      consoleUrl = servers.consoleUrl!;
      const login = { flow: 'password' as const, ...servers.credentials.crm };
      crm = await connectCrm(login, { client: 'e2e-test' });
      marketing = new AccountEngagementClient({
        baseUrl: servers.marketingUrl!,
        businessUnitId: servers.credentials.marketing!.businessUnitId,
        tokens: new SalesforceTokenSource(login),
        actor: 'user',
      });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
    });

    afterAll(async () => {
      await browser?.close();
      await servers?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('asks for the admin login, refuses a wrong password, and shows the overview once logged in', async () => {
      const anonymous = await fetch(`${consoleUrl}/console/api/overview`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: Json }).error.code).toBe('NOT_LOGGED_IN');

      await page.goto(consoleUrl);
      await page.getByLabel('Username').fill(servers.credentials.crm.username);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('not right');
      await shot('login');

      await page.getByLabel('Password').fill(servers.credentials.crm.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'CRM connection' }).waitFor();
      expect(await page.locator('.card', { hasText: 'CRM connection' }).textContent()).toContain('Connected');
      expect(await page.locator('.card', { hasText: 'Marketing connection' }).textContent()).toContain(
        'Connected',
      );
      // The charts are drawn (recharts renders SVG surfaces).
      await page.locator('figure svg.recharts-surface').first().waitFor();
      await shot('overview');

      // The session cookie alone does not make a change: the CSRF token must come with it.
      const changed = await page.evaluate(async () => {
        const r = await fetch('/console/api/pause', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ paused: true }),
        });
        return r.status;
      });
      expect(changed).toBe(403);
      expect((await servers.connector!.status()).paused).toBe(false);
    });

    it('changes a mapping’s conflict policy, and the next sync settles a conflict by it', async () => {
      const { leadId, prospectId } = await newLinkedLead('policy@example.com', { Title: 'Engineer' });
      await go('mappings');
      const policy = page.getByLabel('Conflict policy of jobTitle');
      expect(await policy.inputValue()).toBe('crm');
      await policy.selectOption('marketing');
      // Beside Save: what saving would write to the pairs linked now (they agree on titles).
      await page.getByRole('button', { name: 'Preview what saving writes' }).click();
      const preview = page.getByRole('region', { name: 'Preview of saving' });
      await preview
        .getByRole('heading', { name: /Saving would write, over \d+ linked pairs/ })
        .waitFor({ timeout: 60_000 });
      expect(await preview.textContent()).toContain('To the CRM: 0 records');
      expect(await preview.textContent()).toContain('Nothing has been written.');
      await page.getByRole('button', { name: 'Save mappings and rules' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
      await shot('mappings');

      // A target that cannot be written: the save is refused, the reason under its row.
      const company = page.getByLabel('Lead field mapped to company');
      await company.selectOption('CreatedDate');
      await page.getByRole('button', { name: 'Save mappings and rules' }).click();
      const refusedRow = page.locator('tr[data-field="company"]');
      await expect
        .poll(() => refusedRow.getByRole('alert').textContent(), SYNC_WAIT)
        .toContain('Lead.CreatedDate is read-only in the CRM');
      expect(await refusedRow.getAttribute('aria-invalid')).toBe('true');
      await company.selectOption('Company');
      await page.getByRole('button', { name: 'Save mappings and rules' }).click();
      await expect.poll(() => refusedRow.getByRole('alert').count(), SYNC_WAIT).toBe(0);

      // Both sides change the title while the sync is paused: a conflict for the next pass.
      await go('overview');
      await page.getByRole('button', { name: 'Pause sync' }).click();
      await page.getByRole('button', { name: 'Resume sync' }).waitFor();
      await crm.sobject('Lead').update({ Id: leadId, Title: 'Title from sales' });
      await marketing.updateProspect(prospectId, { jobTitle: 'Title from marketing' });
      await page.getByRole('button', { name: 'Resume sync' }).click();

      // Marketing wins now (CRM wins by default): the CRM's title is replaced.
      await expect
        .poll(async () => ((await crm.sobject('Lead').retrieve(leadId)) as unknown as Json).Title, SYNC_WAIT)
        .toBe('Title from marketing');
      await go(`explorer/${leadId}`);
      const row = page.getByRole('row', { name: /^jobTitle/ });
      await expect.poll(() => row.textContent(), SYNC_WAIT).toContain('marketing wins');
      expect(await row.textContent()).not.toContain('Title from sales');
    });

    it('verifies both sides, shows a drift no change event told, and repairs that field', async () => {
      // An Account renamed: its Contacts' stamps do not move, so nothing tells the sync, and
      // their prospects keep the old company name.
      const [contact] = (
        await crm.query<{ Id: string; AccountId: string }>(
          'SELECT Id, AccountId FROM Contact WHERE AccountId != null ORDER BY Id LIMIT 1',
        )
      ).records;
      await expect
        .poll(async () => (await servers.connector!.linkOf(contact!.Id)) !== null, SYNC_WAIT)
        .toBe(true);
      await crm.sobject('Account').update({ Id: contact!.AccountId, Name: 'Renamed behind the sync' });
      await go('verify');
      await page.getByRole('button', { name: 'Verify now' }).click();
      const repair = page.getByRole('button', { name: 'Repair Contact.company' });
      await repair.waitFor({ timeout: 60_000 });
      const differences = page.getByRole('table', { name: 'Differences' });
      expect(await differences.textContent()).toContain('Renamed behind the sync');
      expect(await differences.textContent()).toContain('drift');
      await shot('verify');
      await repair.click();
      // The repair queues the pair; the running sync writes the Account's name to the prospect.
      const { prospectId } = (await servers.connector!.linkOf(contact!.Id))!;
      await expect
        .poll(async () => (await marketing.readProspect(prospectId, ['company'])).company, SYNC_WAIT)
        .toBe('Renamed behind the sync');
      await page.getByRole('button', { name: 'Verify now' }).click();
      await expect
        .poll(async () => (await servers.connector!.verifyRuns(1))[0]?.differenceCount, SYNC_WAIT)
        .toBe(0);
    });

    it('converts a Lead on the CRM page, and the explorer shows its prospect relinked to the Contact', async () => {
      const { leadId, prospectId } = await newLinkedLead('convert-me@example.com');
      await go('records');
      await page.getByRole('button', { name: 'Convert convert-me@example.com' }).click();
      const notice = page.getByRole('status').filter({ hasText: 'Converted' });
      await notice.waitFor();
      const contactId = /Contact (\w+)/.exec((await notice.textContent()) ?? '')![1]!;
      expect(contactId.startsWith('003')).toBe(true);
      await shot('records');

      await go(`explorer/${prospectId}`);
      await expect
        .poll(() => page.getByTestId('link-state').textContent(), SYNC_WAIT)
        .toContain(`Linked to Contact ${contactId}`);
      expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toContain(
        `Contact ${contactId}`,
      );
      // The conversion is in the field history too: the prospect moved from the Lead.
      expect(await page.locator('table').nth(1).textContent()).toContain(leadId);
      await shot('explorer');
    });

    it('takes a submission of the demo landing page, and the Lead appears with its Task', async () => {
      await go('records');
      await page.getByRole('tab', { name: 'Demo landing page' }).click();
      const form = page.frameLocator('iframe[title="Demo landing page"]');
      await form.getByLabel('Work email').fill('visitor@example.com');
      await form.getByLabel('First name').fill('Vera');
      await form.getByLabel('Last name').fill('Visitor');
      await form.getByRole('button').click();
      await form.getByText('Thank you').waitFor();
      await shot('demo-landing-page');

      // The form's completion action assigns the prospect to the admin: the sync hands it to sales.
      await go('explorer');
      await page.getByLabel('Email, name, prospect id or CRM id').fill('visitor@example.com');
      await page.getByRole('button', { name: 'Search' }).click();
      const leadHit = page.getByRole('link', { name: /Lead Vera Visitor/ });
      await expect
        .poll(async () => {
          await page.getByRole('button', { name: 'Search' }).click();
          return leadHit.count();
        }, SYNC_WAIT)
        .toBe(1);
      await leadHit.click();
      await expect.poll(() => page.getByTestId('tasks').textContent(), SYNC_WAIT).toMatch(/Form/i);
    });

    it('lists a write the CRM refuses, and a retry after the cause is fixed clears it', async () => {
      const { leadId, prospectId } = await newLinkedLead('intern@example.com');
      const rule = noInternsRule('equals');
      servers.crm!.config.validationRules.push(rule);
      await go('records');
      await page.getByRole('tab', { name: 'Prospects' }).click();
      await page.getByRole('button', { name: 'Edit intern@example.com' }).click();
      await page.getByLabel('jobTitle').fill('Intern');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved in the marketing engine' }).waitFor();

      await go('errors');
      const row = page.locator(`tr[data-error-id]`, { hasText: leadId });
      await expect.poll(() => row.count(), SYNC_WAIT).toBe(1);
      expect(await page.getByRole('heading', { name: /validation/ }).count()).toBe(1);
      expect(await row.textContent()).toContain('Interns cannot be Leads');
      await shot('errors');

      // The admin fixes the cause (the rule), then asks for a retry: the write goes through.
      rule.active = false;
      await page.getByRole('button', { name: `Retry the error of ${leadId}` }).click();
      await expect.poll(() => row.count(), SYNC_WAIT).toBe(0);
      expect(((await crm.sobject('Lead').retrieve(leadId)) as unknown as Json).Title).toBe('Intern');
      expect(prospectId).toBeGreaterThan(0);
    });

    it('shows the ingest’s sources and makes a new write key', async () => {
      await go('ingest');
      await page.getByRole('cell', { name: 'Demo source', exact: true }).waitFor();
      await page.getByLabel('New source').fill('Web app');
      await page.getByRole('button', { name: 'Create source' }).click();
      const key = await page.getByTestId('write-key').textContent();
      expect(key).toMatch(/^[A-Za-z0-9]{32}$/);
      // The new key works on the Tracking API.
      const answer = await fetch(`${servers.ingestUrl}/v1/identify`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
        },
        body: JSON.stringify({ userId: 'u-1', traits: { email: 'segment@example.com' } }),
      });
      expect(answer.status).toBe(200);
      await shot('ingest');
    });

    it('moves between tabs with the arrow keys, as tabs do', async () => {
      await go('records');
      await page.getByRole('tab', { name: 'Leads' }).focus();
      await page.keyboard.press('ArrowRight');
      expect(await page.getByRole('tab', { name: 'Contacts' }).getAttribute('aria-selected')).toBe('true');
      await page
        .getByRole('tabpanel')
        .getByRole('table', { name: /Contacts/ })
        .waitFor();
      await page.keyboard.press('End');
      expect(await page.getByRole('tab', { selected: true }).textContent()).toBe('Demo landing page');
      await page.keyboard.press('ArrowRight');
      expect(await page.getByRole('tab', { selected: true }).textContent()).toBe('Leads');
    });

    it('fits a phone screen, and logs out', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await go('overview');
      // Nothing wider than the screen but the tables and charts, which scroll in their own boxes.
      const overflow = await page.evaluate(() => {
        const view = globalThis as unknown as {
          innerWidth: number;
          document: { documentElement: { scrollWidth: number } };
        };
        return view.document.documentElement.scrollWidth - view.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await shot('overview-phone');
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      const after = await page.evaluate(async () => (await fetch('/console/api/overview')).status);
      expect(after).toBe(401);
    });
  },
);
