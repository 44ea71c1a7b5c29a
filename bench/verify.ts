// `handoff sync verify` over the embedded pair (SQLite, processes of their own): BENCH_VERIFY_PAIRS
// Leads (default 1,000,000) loaded through Bulk API 2.0 and linked by `handoff sync backfill`, then
// verified — pairs/s beside a bare read of the same rows from both stores, the API calls it
// used per 100,000 pairs on each side, and its peak RSS. Then the same verify after a change
// made behind the sync's back on 1 % of the Leads (each found as drift), and its repair.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { apiCall, figure, ingestLeads, runHandoff, startServer } from './support.js';
import { bareScan, versus } from './support-baseline.js';

const PAIRS = Number(process.env.BENCH_VERIFY_PAIRS ?? 1_000_000);

/** The figures a verify prints. */
function verified(output: string): {
  output: string;
  pairs: number;
  seconds: number;
  differences: number;
  crm: number;
  marketing: number;
} {
  const run = /verified (\d+) linked pairs in ([\d.]+) s: (\d+) difference/.exec(output);
  const calls = /API calls: CRM (\d+), marketing (\d+)/.exec(output);
  if (!run || !calls) throw new Error(`not a verify's output:\n${output}`);
  return {
    output,
    pairs: Number(run[1]),
    seconds: Number(run[2]),
    differences: Number(run[3]),
    crm: Number(calls[1]),
    marketing: Number(calls[2]),
  };
}

// The demo without its connector: the backfill links, the verify reads, nothing else syncs.
process.env.HANDOFF_SYNC = 'off';
const server = await startServer(undefined, 'demo');
try {
  await ingestLeads(server, PAIRS, 'verify');
  const backfill = await runHandoff(server, ['sync', 'backfill']);
  figure(
    'linked pairs made by the backfill',
    Number(/(\d+) linked/.exec(backfill.output)?.[1] ?? NaN),
    'pairs',
  );

  const clean = await runHandoff(server, ['sync', 'verify', '--csv', `${server.dataDir}/verify.csv`]);
  const first = verified(clean.output);
  figure('verify: linked pairs compared', first.pairs, 'pairs');
  figure('verify: differences found (none made)', first.differences, 'differences');
  const perSecond = first.pairs / first.seconds;
  figure('verify: CRM API calls per 100,000 pairs', (first.crm / first.pairs) * 100_000, 'calls', '<= 20');
  figure(
    'verify: marketing API calls per 100,000 pairs',
    (first.marketing / first.pairs) * 100_000,
    'calls',
    '<= 20',
  );
  figure('verify: peak RSS of the verify process', clean.peakRssMb, 'MB');

  // Behind the sync's back: 1 % of the Leads (at most 2,000, a query page) get a new title, and the connector's capture
  // cursors move past it — a window it never saw (changes with events off while it was paused
  // past its windows, or a restore with old stamps).
  const changed = Math.min(2_000, Math.floor(first.pairs / 100));
  const ids = (
    JSON.parse(
      (await apiCall(server, 'GET', `/query?q=${encodeURIComponent(`SELECT Id FROM Lead LIMIT ${changed}`)}`))
        .body,
    ) as {
      records: Array<{ Id: string }>;
    }
  ).records.map((r) => r.Id);
  for (let i = 0; i < ids.length; i += 200) {
    const records = ids
      .slice(i, i + 200)
      .map((Id) => ({ attributes: { type: 'Lead' }, Id, Title: 'Drifted' }));
    await apiCall(server, 'PATCH', '/composite/sobjects', JSON.stringify({ allOrNone: true, records }));
  }
  const store = new Database(join(server.dataDir, 'handoff.db'));
  store.pragma('busy_timeout = 10000');
  store
    .prepare(
      "update connector_cursor set value = ? where name like '%:Lead' or name like '%:Contact' or name like '%:marketing'",
    )
    .run(new Date(Date.now() + 60_000).toISOString());
  store.close();
  const drifted = verified(
    (await runHandoff(server, ['sync', 'verify', '--csv', `${server.dataDir}/drift.csv`])).output,
  );
  figure(`verify after ${ids.length} Leads changed: differences`, drifted.differences, 'differences');
  if (process.env.BENCH_VERBOSE) console.log(drifted.output);
  const repair = await runHandoff(server, [
    'sync',
    'verify',
    '--repair',
    '--csv',
    `${server.dataDir}/repair.csv`,
  ]);
  figure('verify --repair: seconds, verify and repairs worked off', repair.seconds, 's');
  if (process.env.BENCH_VERBOSE) console.log(repair.output);
  const after = verified(
    (await runHandoff(server, ['sync', 'verify', '--csv', `${server.dataDir}/after.csv`])).output,
  );
  figure('verify after the repair: differences', after.differences, 'differences', '0');

  // The bare baseline: the same rows read from both stores in the same pages, as CSV — what
  // any verify must at least do before it compares.
  await server.stop();
  const leads = bareScan(
    server.dataDir,
    `select "Id", "SystemModstamp", "Email", "OwnerId", "Salutation", "FirstName", "LastName", "Title", "Phone",
      "Fax", "LeadSource", "HasOptedOutOfEmail", "DoNotCall", "Company", "Website", "City", "State",
      "PostalCode", "Country", "Industry", "AnnualRevenue", "NumberOfEmployees", "IsConverted" from crm_lead order by "Id"`,
    { pageRows: 50_000, format: 'csv' },
  );
  const prospects = bareScan(server.dataDir, 'select * from marketing_prospect order by id', {
    pageRows: 100_000,
    format: 'csv',
  });
  versus(
    'verify: pairs/s (handoff sync verify)',
    perSecond,
    1 / (1 / leads + 1 / prospects),
    'pairs/s',
    '>= 20,000',
  );
} finally {
  await server.stop();
  server.cleanup();
}
