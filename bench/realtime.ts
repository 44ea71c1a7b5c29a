// `handoff demo`'s connector at work (SQLite, its own process; change events, webhooks and a 1 s
// poll as safety net): 100 changes a second, mixed on both sides, for BENCH_SECONDS — CRM Lead
// updates, prospect updates, form submissions and email clicks — timing a CRM change to its
// prospect, a prospect change to its Lead, a form submission to its CRM Lead, and an email click
// to its Task. Then email opens
// alone: the CRM API calls the connector spends per 1,000 activities synced as Tasks.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestSmtp } from '../test/support/smtp.js';
import { figure, jsonClient, percentile, routeCounts, routeDelta, startServer } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const LEADS = Number(process.env.BENCH_LEADS ?? 1_000);
const OPENS = Number(process.env.BENCH_OPENS ?? 1_000);

// Mail goes to a local SMTP server, so the bench follows the links a recipient would.
const smtp = await startTestSmtp();
const mails = smtp.mails;
const configDir = mkdtempSync(join(tmpdir(), 'handoff-bench-config-'));
process.env.HANDOFF_CONFIG = join(configDir, 'handoff.config.json');
writeFileSync(
  process.env.HANDOFF_CONFIG,
  JSON.stringify({
    marketing: { smtp: { url: smtp.url } },
    // A load far past any unit's day: the connector may spend the unit's whole allowance (its
    // default share, 20 %, would have it wait part way through).
    connector: { rules: { createLeads: 'form-success' }, marketingApi: { share: 1 } },
  }),
);
process.env.HANDOFF_SYNC = 'on';

const server = await startServer(undefined, 'demo');
try {
  const crm = jsonClient(server, 8);
  const marketing = server.marketing!;
  const base = new URL(marketing.baseUrl);
  const mkt = jsonClient(server, 4, {
    url: base,
    headers: { 'pardot-business-unit-id': marketing.businessUnitId },
  });
  let benchCrmCalls = 0;
  const crmCall = async (method: string, path: string, body?: unknown) => {
    benchCrmCalls += 1;
    const r = await crm(method, `/services/data/v60.0${path}`, body);
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${r.body.slice(0, 200)}`);
    return JSON.parse(r.body || 'null') as unknown;
  };
  const soql = async <T>(q: string) =>
    ((await crmCall('GET', `/query?q=${encodeURIComponent(q)}`)) as { records: T[] }).records;
  const used = async () => {
    const limits = (await crmCall('GET', '/limits')) as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    return limits.DailyApiRequests.Max - limits.DailyApiRequests.Remaining;
  };
  const mktCall = async (method: string, path: string, body?: unknown) => {
    const r = await mkt(method, path, body);
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${r.body.slice(0, 200)}`);
    return JSON.parse(r.body || 'null') as Record<string, unknown>;
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const get = (url: string) =>
    new Promise<void>((resolve, reject) => {
      http.get(url, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  const post = (path: string, form: URLSearchParams) =>
    new Promise<void>((resolve, reject) => {
      const payload = form.toString();
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: 'POST',
          path,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject);
      req.end(payload);
    });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---- setup: Leads with their prospects, an email to each, a form handler ----
  const campaignId = (
    await mktCall('POST', '/api/v5/objects/campaigns?fields=id', { name: 'Realtime bench' })
  ).id;
  const handlerId = (
    await mktCall('POST', '/api/v5/objects/form-handlers?fields=id', { name: 'Bench form', campaignId })
  ).id as number;
  for (const [name, prospectApiFieldId] of [
    ['email', 'email'],
    ['last_name', 'lastName'],
  ])
    await mktCall('POST', '/api/v5/objects/form-handler-fields?fields=id', {
      formHandlerId: handlerId,
      name,
      prospectApiFieldId,
    });
  const emails = Array.from({ length: LEADS }, (_, i) => `rt${i}@bench.example`);
  const leadIds: string[] = [];
  for (let i = 0; i < LEADS; i += 200) {
    const records = emails.slice(i, i + 200).map((Email, j) => ({
      attributes: { type: 'Lead' },
      LastName: `RT ${i + j}`,
      Company: 'Bench',
      Email,
      Phone: 'start',
    }));
    const saved = (await crmCall('POST', '/composite/sobjects', { allOrNone: true, records })) as Array<{
      id: string;
    }>;
    leadIds.push(...saved.map((s) => s.id));
  }
  const prospectIds = new Map<string, number>();
  for (const deadline = Date.now() + 120_000; prospectIds.size < LEADS && Date.now() < deadline;) {
    prospectIds.clear();
    let token: string | null = null;
    do {
      const page = (await mktCall(
        'GET',
        token
          ? `/api/v5/objects/prospects?nextPageToken=${token}`
          : '/api/v5/objects/prospects?fields=id,email&limit=1000',
      )) as unknown as { values: Array<{ id: number; email: string }>; nextPageToken: string | null };
      for (const p of page.values) if (p.email.startsWith('rt')) prospectIds.set(p.email, p.id);
      token = page.nextPageToken;
    } while (token);
    if (prospectIds.size < LEADS) await sleep(500);
  }
  if (prospectIds.size < LEADS) throw new Error(`only ${prospectIds.size} of ${LEADS} prospects made`);
  for (const email of emails)
    await mktCall('POST', '/api/v5/objects/emails?fields=id', {
      campaignId,
      prospectId: prospectIds.get(email),
      subject: `Hello ${email}`,
      htmlMessage: `<p>Hi</p><a href="https://www.example.com/${email}">Read</a>`,
    });
  while (mails.length < LEADS) await sleep(100);
  // Each recipient's click link and open pixel, by the address the mail went to.
  const links = new Map<string, { click: string; open: string }>();
  for (const mail of mails) {
    const email = Array.isArray(mail.to) ? '' : (mail.to?.text ?? '');
    const hrefs = [...String(mail.html).matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    const click = hrefs.find((h) => /\/c\/0$/.test(h));
    const open = hrefs.find((h) => h.endsWith('/o.gif'));
    if (email && click && open) links.set(email, { click, open });
  }
  // Settle the sends' Tasks and echoes before measuring.
  await sleep(5_000);

  // ---- mixed load: 40 % CRM updates, 20 % prospect updates, 20 % forms, 20 % clicks ----
  const crmAt = new Map<string, number>();
  const formAt = new Map<string, number>();
  const clickAt = new Map<string, number>();
  const leadOfEmail = new Map(emails.map((e, i) => [e, leadIds[i]!]));
  let loadDone = false;
  const crmLags: number[] = [];
  const formLags: number[] = [];
  const clickLags: number[] = [];
  const titleAt = new Map<string, number>();
  const titleLags: number[] = [];
  const seenTitles = new Set<string>();
  const lastTitle = new Map<string, string>();
  const seenPhones = new Set<string>();
  const seenForms = new Set<string>();
  const seenClicks = new Set<string>();
  const lastPhone = new Map<string, string>();
  // Four watchers side by side, each stamping what it sees with the moment its answer came:
  // a change was there by then at the latest, so the lags err long, never short.
  const deadline = Date.now() + (SECONDS + 60) * 1000;
  const done = () => {
    const phonesDone = [...lastPhone].every(([e, phone]) => seenPhones.has(`${e}|${phone}`));
    const titlesDone = [...lastTitle].every(([e, title]) => seenTitles.has(`${e}|${title}`));
    return (
      loadDone &&
      phonesDone &&
      titlesDone &&
      seenForms.size === formAt.size &&
      seenClicks.size === clickAt.size
    );
  };
  const watch = async <T>(read: () => Promise<T[]>, see: (row: T, at: number) => void) => {
    while (Date.now() < deadline && !done()) {
      const rows = await read();
      const at = Date.now();
      for (const row of rows) see(row, at);
      await sleep(50);
    }
  };
  const seen = (key: string, at: number, since: Map<string, number>, set: Set<string>, lags: number[]) => {
    if (since.has(key) && !set.has(key)) {
      set.add(key);
      lags.push(at - since.get(key)!);
    }
  };
  const watching = Promise.all([
    watch(
      async () =>
        (
          (await mktCall(
            'GET',
            '/api/v5/objects/prospects?fields=email,phone&orderBy=updatedAt%20desc&limit=1000',
          )) as unknown as { values: Array<{ email: string; phone: string | null }> }
        ).values,
      (p, at) => seen(`${p.email}|${p.phone}`, at, crmAt, seenPhones, crmLags),
    ),
    watch(
      () => soql<{ Email: string }>(`SELECT Email FROM Lead WHERE Email LIKE 'form%'`),
      (lead, at) => seen(lead.Email, at, formAt, seenForms, formLags),
    ),
    watch(
      () =>
        soql<{ Email: string; Title: string }>(
          `SELECT Email, Title FROM Lead WHERE Title LIKE 't%' AND Email LIKE 'rt%'`,
        ),
      (lead, at) => seen(`${lead.Email}|${lead.Title}`, at, titleAt, seenTitles, titleLags),
    ),
    watch(
      () => soql<{ WhoId: string }>(`SELECT WhoId FROM Task WHERE Subject LIKE 'Email clicked%'`),
      (task, at) => seen(task.WhoId, at, clickAt, seenClicks, clickLags),
    ),
  ]);
  const started = Date.now();
  if (process.env.BENCH_SERVER_LOG) console.log(`mixed load from ${started}`);
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  const total = RATE * SECONDS;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * RATE));
    for (; sent < due; sent++) {
      const i = sent;
      const slot = i % 5;
      const email = emails[Math.floor(i / 5) % LEADS]!;
      if (slot <= 1) {
        const phone = `p${i}`;
        crmAt.set(`${email}|${phone}`, Date.now());
        lastPhone.set(email, phone);
        pending.push(crmCall('PATCH', `/sobjects/Lead/${leadOfEmail.get(email)}`, { Phone: phone }));
      } else if (slot === 2) {
        titleAt.set(`${email}|t${i}`, Date.now());
        lastTitle.set(email, `t${i}`);
        pending.push(
          mktCall('PATCH', `/api/v5/objects/prospects/${prospectIds.get(email)}?fields=id`, {
            jobTitle: `t${i}`,
          }),
        );
      } else if (slot === 3) {
        const newEmail = `form${i}@bench.example`;
        formAt.set(newEmail, Date.now());
        pending.push(
          post(
            `/l/${marketing.businessUnitId}/${handlerId}`,
            new URLSearchParams({ email: newEmail, last_name: `F${i}` }),
          ),
        );
      } else {
        const link = links.get(email);
        if (link && !clickAt.has(leadOfEmail.get(email)!)) {
          clickAt.set(leadOfEmail.get(email)!, Date.now());
          pending.push(get(link.click));
        }
      }
    }
    await sleep(5);
  }
  await Promise.all(pending);
  loadDone = true;
  await watching;

  for (const lags of [crmLags, titleLags, formLags, clickLags]) lags.sort((a, b) => a - b);
  figure(`mixed load: ${RATE} changes/s for ${SECONDS} s`, total, 'changes');
  figure(`CRM change → prospect (${crmLags.length} seen): p50`, percentile(crmLags, 50), 'ms');
  figure('CRM change → prospect: p99', percentile(crmLags, 99), 'ms', '<= 1,000');
  figure(`prospect change → Lead (${titleLags.length} seen): p50`, percentile(titleLags, 50), 'ms');
  figure('prospect change → Lead: p99', percentile(titleLags, 99), 'ms', '<= 1,000');
  figure(`form → CRM Lead (${formLags.length}/${formAt.size}): p50`, percentile(formLags, 50), 'ms');
  figure('form → CRM Lead: p99', percentile(formLags, 99), 'ms', '<= 1,000');
  figure(`email click → Task (${clickLags.length}/${clickAt.size}): p50`, percentile(clickLags, 50), 'ms');
  figure('email click → Task: p99', percentile(clickLags, 99), 'ms');

  // ---- activities alone: CRM calls per 1,000 synced ----
  await sleep(3_000);
  const countTasks = async () =>
    (
      (await crmCall(
        'GET',
        `/query?q=${encodeURIComponent("SELECT COUNT() FROM Task WHERE Subject LIKE 'Email opened%'")}`,
      )) as { totalSize: number }
    ).totalSize;
  const before = await used();
  const routesBefore = await routeCounts(server.url.origin);
  const benchBefore = benchCrmCalls;
  const opens = [...links.values()].slice(0, OPENS);
  const openStart = Date.now();
  for (const [i, link] of opens.entries()) {
    await get(link.open);
    const ahead = i + 1 - ((Date.now() - openStart) / 1000) * RATE;
    if (ahead > 0) await sleep((ahead / RATE) * 1000);
  }
  let tasks = 0;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
    tasks = await countTasks();
    if (tasks >= opens.length) break;
  }
  await sleep(3_000);
  const connectorCalls = (await used()) - before - (benchCrmCalls - benchBefore) - 1;
  // Where the calls went (the bench's own included: its Task counts and /limits).
  const routes = routeDelta(routesBefore, await routeCounts(server.url.origin), (r) =>
    r.startsWith('/services/data'),
  );
  console.log(
    `  CRM routes asked meanwhile (bench's own ${benchCrmCalls - benchBefore} included; a Composite call's subrequests listed too, though the org counts the call once):`,
  );
  for (const [route, n] of routes.slice(0, 8)) console.log(`    ${String(n).padStart(6)}  ${route}`);
  figure(`email opens synced as Tasks (${opens.length} opened)`, tasks, 'Tasks');
  figure(
    'CRM API calls per 1,000 synced activities',
    (connectorCalls / Math.max(1, tasks)) * 1000,
    'calls',
    '<= 10',
  );
  figure('peak RSS of the demo process', server.peakRssMb(), 'MB');
} finally {
  await server.stop();
  server.cleanup();
  await smtp.close();
}
