import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  cleanUp,
  CLI,
  FREE_PORTS,
  login,
  marketingQuery,
  run,
  start,
  stop,
  tempDir,
  TSX_LOADER,
} from '../support/cli.js';
import { createPgDatabase, HAS_POSTGRES } from '../support/databases.js';

afterEach(cleanUp);

const LEADS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!HAS_POSTGRES)('two handoff sync processes on one PostgreSQL database', () => {
  // A database of its own, dropped afterwards.
  let database: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  afterAll(() => database?.drop());

  it('share the work, and no record is worked into two prospects', async () => {
    database = await createPgDatabase('handoff_two');
    const { url } = database;

    const dataDir = tempDir();
    const configFile = join(dataDir, 'handoff.config.json');
    // Several prospects per email allowed: a record worked twice would show as a second prospect.
    writeFileSync(configFile, JSON.stringify({ marketing: { unit: { allowMultiplePerEmail: true } } }));
    const flags = ['--data-dir', dataDir, '--config', configFile, '--database-url', url];
    const demo = await start(['demo', ...FREE_PORTS, '--no-sync', ...flags]);
    const conn = await login(dataDir);
    expect((await run(['sync', '--once', ...flags])).code).toBe(0);
    // Two connector processes, started together on the same database.
    const outputs = ['', ''];
    const children: ChildProcess[] = [0, 1].map((n) => {
      const child = spawn(
        process.execPath,
        ['--import', TSX_LOADER, CLI, 'sync', '--interval', '200', ...flags],
        {
          env: { ...process.env, HANDOFF_LOG_LEVEL: 'info' },
        },
      );
      child.stdout!.on('data', (c: Buffer) => (outputs[n] += c.toString()));
      child.stderr!.resume();
      return child;
    });
    // Both running before the Leads come (a cold start can take seconds on a loaded machine:
    // the first one up would otherwise find every change alone).
    for (let i = 0; i < 600 && !outputs.every((out) => out.includes('syncing; Ctrl-C stops')); i++)
      await sleep(50);
    expect(outputs.map((out) => out.includes('syncing; Ctrl-C stops'))).toEqual([true, true]);
    for (let i = 0; i < LEADS; i += 200) {
      await conn.sobject('Lead').create(
        Array.from({ length: 200 }, (_, j) => ({
          LastName: `Two ${i + j}`,
          Company: 'Two Co',
          Email: `two${i + j}@example.com`,
        })),
        { allOrNone: true },
      );
    }

    const count = async () => {
      let total = 0;
      let path = '/api/v5/objects/prospects?fields=id,email&limit=1000&orderBy=id';
      for (;;) {
        const answer = await marketingQuery(dataDir, conn.accessToken!, { path });
        // The unit's five concurrent calls are the connectors' too: a 429 (code 66) is asked again.
        if (answer.status !== 200) {
          await sleep(50);
          continue;
        }
        const page = answer.body as unknown as {
          values: Array<{ email: string }>;
          nextPageUrl: string | null;
        };
        total += page.values.filter((p) => p.email.startsWith('two')).length;
        if (!page.nextPageUrl) return total;
        const next = new URL(page.nextPageUrl);
        path = next.pathname + next.search;
      }
    };
    for (let i = 0; i < 240 && (await count()) < LEADS; i++) await sleep(250);
    await sleep(1_500);
    for (const child of children) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }

    // Every Lead has exactly one prospect, though both processes ran over the same changes.
    expect(await count()).toBe(LEADS);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const twice = await db.query(`select crm_id, count(*) from connector_sync_log
      where reason = 'prospect made for a new Lead' group by crm_id having count(*) > 1`);
    const made = await db.query(
      `select count(*)::int as n from connector_sync_log where reason = 'prospect made for a new Lead'`,
    );
    await db.end();
    expect(twice.rows).toEqual([]);
    expect(made.rows[0].n).toBe(LEADS);
    // Both took a share of the items.
    const worked = outputs.map((out) =>
      out
        .split('\n')
        .filter((line) => line.includes('"sync pass"'))
        .reduce((sum, line) => sum + Number((JSON.parse(line) as { worked: number }).worked), 0),
    );
    expect(worked[0]).toBeGreaterThan(0);
    expect(worked[1]).toBeGreaterThan(0);
    expect(worked[0]! + worked[1]!).toBeGreaterThanOrEqual(LEADS);
    expect(await stop(demo)).toBe(0);
  }, 180_000);
});
