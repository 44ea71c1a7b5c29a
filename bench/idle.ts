// Idle: the API calls the connector makes on each side a minute while nothing changes, and how
// long a change then takes to cross.
// - demo: `handoff demo` with its connector (CRM change events and the engine's webhooks on);
// - polling: `handoff demo --no-sync` beside a `handoff sync` that takes no webhooks, so it must
//   poll the marketing engine; its day at this rate is set beside 5 % of the unit's limit.
// Calls are counted by the servers themselves (their /metrics): the CRM's REST API under
// /services/ without OAuth (which Salesforce does not count) and its streaming (CometD, not
// counted against the REST limit either, shown apart); the engine's /api/.
// BENCH_IDLE_MINUTES (default 5) sets how long each part is watched; BENCH_IDLE_PARTS
// (default demo,polling) which parts run.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { figure, jsonClient, startServer, type BenchServer } from './support.js';

const MINUTES = Number(process.env.BENCH_IDLE_MINUTES ?? 5);
const PARTS = (process.env.BENCH_IDLE_PARTS ?? 'demo,polling').split(',');
/** The demo unit's daily limit (the engine's default), which the connector's budget is a share of. */
const UNIT_DAILY_LIMIT = 100_000;

/** Requests each server has answered so far, from its Prometheus counters. */
async function served(server: BenchServer): Promise<{ crm: number; streaming: number; marketing: number }> {
  const count = async (url: string, keep: (route: string) => boolean) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    let n = 0;
    for (const m of text.matchAll(/^handoff_http_requests_total\{([^}]*)\} (\d+)/gm)) {
      const route = /route="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
      if (keep(route)) n += Number(m[2]);
    }
    return n;
  };
  const crmUrl = server.url.origin;
  const marketingUrl = server.marketing!.baseUrl;
  return {
    crm: await count(crmUrl, (r) => r.startsWith('/services/') && !r.startsWith('/services/oauth2')),
    streaming: await count(crmUrl, (r) => r.startsWith('/cometd')),
    marketing: await count(marketingUrl, (r) => r.startsWith('/api/')),
  };
}

/** Runs `handoff sync status` on the data dir until its output matches. */
async function untilStatus(dataDir: string, pattern: RegExp, timeoutS = 300): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['dist/cli/main.js', 'sync', 'status', '--data-dir', dataDir]);
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.on('exit', () => resolve(text));
    });
    if (pattern.test(out)) return;
    await sleep(1_000);
  }
  throw new Error(`sync status never matched ${pattern}`);
}

/** Calls a minute on each side over the watch, nothing changing. */
async function watchIdle(
  server: BenchServer,
): Promise<{ crm: number; streaming: number; marketing: number }> {
  const before = await served(server);
  await sleep(MINUTES * 60_000);
  const after = await served(server);
  // The two scrapes are /metrics, not counted: only the connector spoke to the APIs meanwhile.
  return {
    crm: (after.crm - before.crm) / MINUTES,
    streaming: (after.streaming - before.streaming) / MINUTES,
    marketing: (after.marketing - before.marketing) / MINUTES,
  };
}

/** How long a change takes to cross, each way, after the idle watch. */
async function crossing(server: BenchServer): Promise<{ toMarketing: number; toCrm: number }> {
  const crm = jsonClient(server, 1);
  const marketing = jsonClient(server, 1, {
    url: new URL(server.marketing!.baseUrl),
    headers: { 'pardot-business-unit-id': server.marketing!.businessUnitId },
  });
  const email = `idle-${Date.now()}@bench.example`;
  let started = Date.now();
  const made = await crm('POST', '/services/data/v60.0/sobjects/Lead', {
    LastName: 'Idle',
    Company: 'Idle Co',
    Email: email,
  });
  const leadId = (JSON.parse(made.body) as { id: string }).id;
  let prospectId: number | undefined;
  while (prospectId === undefined) {
    const r = await marketing(
      'GET',
      `/api/v5/objects/prospects?fields=id&email=${encodeURIComponent(email)}`,
    );
    prospectId = (JSON.parse(r.body) as { values: Array<{ id: number }> }).values[0]?.id;
    if (prospectId === undefined) await sleep(100);
  }
  const toMarketing = Date.now() - started;
  // Quiet again before the other way, so it too starts from idle.
  await sleep(90_000);
  started = Date.now();
  await marketing('PATCH', `/api/v5/objects/prospects/${prospectId}?fields=id`, { jobTitle: 'Crossed' });
  for (;;) {
    const r = await crm('GET', `/services/data/v60.0/sobjects/Lead/${leadId}?fields=Title`);
    if ((JSON.parse(r.body) as { Title: string | null }).Title === 'Crossed') break;
    await sleep(100);
  }
  return { toMarketing, toCrm: Date.now() - started };
}

function report(part: string, perMinute: { crm: number; streaming: number; marketing: number }) {
  figure(`${part}: CRM REST calls a minute`, perMinute.crm, 'calls/min');
  figure(`${part}: CRM streaming (CometD) requests a minute`, perMinute.streaming, 'requests/min');
  figure(`${part}: marketing calls a minute`, perMinute.marketing, 'calls/min');
}

console.log(`Idle for ${MINUTES} minutes a part, on this machine.`);

// The demo: change events and webhooks tell the connector of changes; polling is a safety net.
if (PARTS.includes('demo')) {
  process.env.HANDOFF_SYNC = 'on';
  const demo = await startServer(undefined, 'demo');
  try {
    await untilStatus(demo.dataDir, /backfill {7}done/);
    await sleep(20_000); // the first passes after the backfill settle
    const idle = await watchIdle(demo);
    report('demo', idle);
    figure('demo: CRM calls a minute, target', idle.crm, 'calls/min', '≤ 1');
    figure('demo: marketing calls a minute, target', idle.marketing, 'calls/min', '≤ 1');
    const cross = await crossing(demo);
    figure('demo, idle: a new Lead reaches marketing', cross.toMarketing, 'ms');
    figure('demo, idle: a prospect change reaches the CRM', cross.toCrm, 'ms');
  } finally {
    await demo.stop();
    demo.cleanup();
  }
}

// A connector that must poll the marketing engine: no webhooks configured.
if (PARTS.includes('polling')) {
  process.env.HANDOFF_SYNC = 'off';
  const servers = await startServer(undefined, 'demo');
  let sync: ChildProcess | undefined;
  try {
    sync = spawn(process.execPath, ['dist/cli/main.js', 'sync', '--data-dir', servers.dataDir], {
      stdio: 'ignore',
      env: { ...process.env, HANDOFF_LOG_LEVEL: 'warn' },
    });
    await untilStatus(servers.dataDir, /backfill {7}done/);
    // The polls back off from a second to their idle wait (1 + 2 + … + 64 s): watched after.
    await sleep(150_000);
    const idle = await watchIdle(servers);
    report('polling', idle);
    const day = idle.marketing * 1440;
    figure('polling: marketing calls a day at this rate', day, 'calls/day');
    figure(
      'polling: share of the unit’s daily limit',
      (day / UNIT_DAILY_LIMIT) * 100,
      `% of ${UNIT_DAILY_LIMIT.toLocaleString('en-US')}`,
      '≤ 5 %',
    );
    const cross = await crossing(servers);
    figure('polling, idle: a new Lead reaches marketing', cross.toMarketing, 'ms');
    figure('polling, idle: a prospect change reaches the CRM', cross.toCrm, 'ms');
  } finally {
    sync?.kill('SIGTERM');
    await servers.stop();
    servers.cleanup();
  }
}
