// The connector between the embedded CRM and marketing engine (SQLite, processes of their own).
// First the backfill: 100,000 Leads already in the CRM, synced by `handoff sync backfill` —
// records/s beside the same rows written bare, and the API calls it used. Then `handoff demo`'s connector (a pass every second):
// the delay from a CRM change to the prospect and from a prospect change back to the CRM, and
// the CRM API calls it spends per 1,000 changed records (read from the CRM's /limits, less the
// bench's own calls).
import {
  apiCall,
  figure,
  ingestLeads,
  jsonClient,
  runHandoff,
  startServer,
  type BenchServer,
  percentile,
} from './support.js';
import { bareInserts, versus } from './support-baseline.js';

const RECORDS = Number(process.env.BENCH_SYNC_RECORDS ?? 1_000);
const BACKFILL = Number(process.env.BENCH_BACKFILL_RECORDS ?? 100_000);

/** Calls counted against a side's daily API limit so far. */
async function crmCallsUsed(server: BenchServer): Promise<number> {
  const limits = JSON.parse((await apiCall(server, 'GET', '/limits')).body) as {
    DailyApiRequests: { Max: number; Remaining: number };
  };
  return limits.DailyApiRequests.Max - limits.DailyApiRequests.Remaining;
}

if (BACKFILL > 0) {
  // The demo without its connector: the backfill is the only sync.
  process.env.HANDOFF_SYNC = 'off';
  const server = await startServer(undefined, 'demo');
  try {
    await ingestLeads(server, BACKFILL, 'backfill');

    const before = await crmCallsUsed(server);
    const { output, seconds } = await runHandoff(server, ['sync', 'backfill']);
    // BENCH_VERBOSE=1: the backfill's own output (its progress lines, with their times).
    if (process.env.BENCH_VERBOSE) console.log(output);
    const calls = (await crmCallsUsed(server)) - before - 1;
    const linked = Number(/(\d+) linked/.exec(output)?.[1] ?? NaN);
    figure(
      `backfill: Leads linked to new prospects (of ${BACKFILL.toLocaleString('en-US')})`,
      linked,
      'records',
    );
    // The bare baseline: the rows a backfill must write, each once, written bare — the new
    // prospects into a copy of the prospect table and the linked Leads into a copy of the Lead
    // table (their indexes, 2,000 rows a transaction), taken from the stores once it has run.
    await server.stop();
    const rows = { rows: BACKFILL, perTransaction: 2_000 };
    const prospectsPerSecond = bareInserts(server.dataDir, 'marketing_prospect', {
      ...rows,
      where: "email like 'backfill%'",
    });
    const leadsPerSecond = bareInserts(server.dataDir, 'crm_lead', {
      ...rows,
      where: `"Email" like 'backfill%'`,
    });
    versus(
      'backfill: records/s (handoff sync backfill, end to end)',
      linked / seconds,
      1 / (1 / prospectsPerSecond + 1 / leadsPerSecond),
      'records/s',
      '>= 5,000',
    );
    figure('backfill: CRM API calls used', calls, 'calls');
    figure(
      'backfill: marketing API calls used',
      Number(/marketing API calls (\d+)/.exec(output)?.[1] ?? NaN),
      'calls',
    );
  } finally {
    await server.stop();
    server.cleanup();
  }
}

// The steady state is about the demo's connector: the demo runs it.
process.env.HANDOFF_SYNC = 'on';

const server = await startServer(undefined, 'demo');
try {
  const crm = jsonClient(server, 4);
  const marketing = server.marketing!;
  const mkt = jsonClient(server, 2, {
    url: new URL(marketing.baseUrl),
    headers: { 'pardot-business-unit-id': marketing.businessUnitId },
  });
  let benchCrmCalls = 0;
  const crmCall = async (method: string, path: string, body?: unknown) => {
    benchCrmCalls += 1;
    const r = await crm(method, path, body);
    if (r.status >= 300) throw new Error(`unexpected ${r.status}: ${r.body.slice(0, 200)}`);
    return JSON.parse(r.body || 'null') as unknown;
  };
  const used = async () => {
    const limits = (await crmCall('GET', '/services/data/v60.0/limits')) as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    return limits.DailyApiRequests.Max - limits.DailyApiRequests.Remaining;
  };
  /** Prospects (by email) whose phone is `phone`, polled every 50 ms: when each was first seen. */
  const watch = async (emails: string[], phone: string, started: Map<string, number>) => {
    const seen = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    while (seen.size < emails.length && Date.now() < deadline) {
      const r = await mkt(
        'GET',
        `/api/v5/objects/prospects?fields=email,phone&orderBy=updatedAt%20desc&limit=1000`,
      );
      const now = Date.now();
      for (const p of (JSON.parse(r.body) as { values: Array<{ email: string; phone: string }> }).values) {
        if (p.phone === phone && started.has(p.email) && !seen.has(p.email))
          seen.set(p.email, now - started.get(p.email)!);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [...seen.values()].sort((a, b) => a - b);
  };

  // Leads made after the connector started get prospects; wait for all of them.
  const emails = Array.from({ length: RECORDS }, (_, i) => `sync${i}@bench.example`);
  const ids: string[] = [];
  for (let i = 0; i < RECORDS; i += 200) {
    const records = emails.slice(i, i + 200).map((email, j) => ({
      attributes: { type: 'Lead' },
      LastName: `Sync ${i + j}`,
      Company: 'Bench Co',
      Email: email,
      Phone: 'created',
    }));
    const saved = (await crmCall('POST', '/services/data/v60.0/composite/sobjects', {
      allOrNone: true,
      records,
    })) as Array<{
      id: string;
    }>;
    ids.push(...saved.map((s) => s.id));
  }
  const createdAt = new Map(emails.map((e) => [e, Date.now()]));
  const linked = await watch(emails, 'created', createdAt);
  figure(`new Leads → prospects (${RECORDS})`, linked.length, 'seen');
  // Let a pass or two settle the echoes before counting calls.
  await new Promise((resolve) => setTimeout(resolve, 3_000));

  const before = await used();
  const benchBefore = benchCrmCalls;
  const phoneAt = new Map<string, number>();
  for (let i = 0; i < RECORDS; i += 200) {
    const records = ids
      .slice(i, i + 200)
      .map((Id) => ({ attributes: { type: 'Lead' }, Id, Phone: 'changed' }));
    await crmCall('PATCH', '/services/data/v60.0/composite/sobjects', { allOrNone: true, records });
    const now = Date.now();
    for (const email of emails.slice(i, i + 200)) phoneAt.set(email, now);
  }
  const lags = await watch(emails, 'changed', phoneAt);
  figure(`CRM change → prospect, ${lags.length} records: p50`, percentile(lags, 50), 'ms');
  figure('CRM change → prospect: p99', percentile(lags, 99), 'ms', '<= 3,000 (1 s poll)');

  // And back: a marketing change to a field synced both ways reaches the Lead.
  const prospects = new Map<string, number>();
  let token: string | null = null;
  do {
    // A page token carries the query: it is sent alone.
    const r = await mkt(
      'GET',
      token
        ? `/api/v5/objects/prospects?nextPageToken=${token}`
        : '/api/v5/objects/prospects?fields=id,email&limit=1000',
    );
    if (r.status !== 200) throw new Error(`unexpected ${r.status}: ${r.body.slice(0, 200)}`);
    const page = JSON.parse(r.body) as {
      values: Array<{ id: number; email: string }>;
      nextPageToken: string | null;
    };
    for (const p of page.values) if (phoneAt.has(p.email)) prospects.set(p.email, p.id);
    token = page.nextPageToken;
  } while (token);
  const titleAt = new Map<string, number>();
  const list = [...prospects];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < list.length) {
        const [email, id] = list[next++]!;
        titleAt.set(email, Date.now());
        await mkt('PATCH', `/api/v5/objects/prospects/${id}?fields=id`, { jobTitle: 'Changed in marketing' });
      }
    }),
  );
  const back: number[] = [];
  const seenBack = new Set<string>();
  const deadline = Date.now() + 60_000;
  while (seenBack.size < titleAt.size && Date.now() < deadline) {
    const r = (await crmCall(
      'GET',
      `/services/data/v60.0/query?q=${encodeURIComponent("SELECT Email FROM Lead WHERE Title = 'Changed in marketing'")}`,
    )) as { records: Array<{ Email: string }> };
    const now = Date.now();
    for (const lead of r.records) {
      if (!seenBack.has(lead.Email) && titleAt.has(lead.Email)) {
        seenBack.add(lead.Email);
        back.push(now - titleAt.get(lead.Email)!);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  back.sort((a, b) => a - b);
  figure(`prospect change → Lead, ${back.length} records: p50`, percentile(back, 50), 'ms');
  figure('prospect change → Lead: p99', percentile(back, 99), 'ms', '<= 3,000 (1 s poll)');

  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const connectorCalls = (await used()) - before - (benchCrmCalls - benchBefore - 1);
  const changedRecords = lags.length + back.length;
  figure(
    `CRM API calls per 1,000 changed records (${changedRecords} changes)`,
    (connectorCalls / changedRecords) * 1000,
    'calls',
    '<= 10',
  );
} finally {
  await server.stop();
  server.cleanup();
}
