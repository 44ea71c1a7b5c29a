import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type jsforce from 'jsforce';
import { afterEach, describe, expect, it } from 'vitest';
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

afterEach(cleanUp);

const NEW_LEADS = 1_200;
const PAIRS = 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `handoff sync` running continuously in its own process. */
function startSync(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'sync', '--interval', '200', ...args]);
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

describe('handoff sync killed in the middle of a batch', () => {
  it('converges after a restart: nothing lost, nothing doubled, no further writes', async () => {
    const dataDir = tempDir();
    const configFile = join(dataDir, 'handoff.config.json');
    // Several prospects per email allowed (as in v4 units): a doubled create would show.
    writeFileSync(
      configFile,
      JSON.stringify({
        marketing: { unit: { allowMultiplePerEmail: true } },
        connector: { leaseSeconds: 2 },
      }),
    );
    const flags = ['--data-dir', dataDir, '--config', configFile];
    const demo = await start(['demo', ...FREE_PORTS, '--no-sync', ...flags]);
    const conn = await login(dataDir);
    const token = conn.accessToken!;

    /** Every prospect of the test (email `crash…`), by email, through the v5 API. */
    const prospects = async (): Promise<Map<string, Array<Record<string, unknown>>>> => {
      const byEmail = new Map<string, Array<Record<string, unknown>>>();
      let path = '/api/v5/objects/prospects?fields=id,email,phone,jobTitle&limit=1000&orderBy=id';
      for (;;) {
        const page = (await marketingQuery(dataDir, token, { path })).body as unknown as {
          values: Array<Record<string, unknown>>;
          nextPageUrl: string | null;
        };
        for (const p of page.values) {
          const email = String(p.email);
          if (email.startsWith('crash')) byEmail.set(email, [...(byEmail.get(email) ?? []), p]);
        }
        if (!page.nextPageUrl) return byEmail;
        path = new URL(page.nextPageUrl).pathname + new URL(page.nextPageUrl).search;
      }
    };

    // Synced pairs to change on both sides.
    expect((await run(['sync', '--once', ...flags])).code).toBe(0);
    const pairIds = await createLeads(conn, 'crash-pair', PAIRS);
    expect((await run(['sync', '--once', ...flags])).code).toBe(0);
    const pairs = await prospects();
    expect(pairs.size).toBe(PAIRS);

    // The burst: new Leads, CRM changes and marketing changes.
    await createLeads(conn, 'crash-new', NEW_LEADS);
    for (let i = 0; i < PAIRS; i += 200) {
      await conn.sobject('Lead').update(
        pairIds.slice(i, i + 200).map((Id, j) => ({ Id, Phone: `crm-${i + j}` })),
        { allOrNone: true },
      );
    }
    for (let i = 0; i < PAIRS; i++) {
      const [p] = pairs.get(`crash-pair${i}@example.com`)!;
      const r = await marketingQuery(dataDir, token, {
        method: 'PATCH',
        path: `/api/v5/objects/prospects/${String(p!.id)}?fields=id`,
        body: { jobTitle: `mkt-${i}` },
      });
      expect(r.status).toBe(200);
    }

    // Killed as soon as the first new prospect is there: in the middle of its work.
    const first = startSync(flags);
    for (let i = 0; i < 600; i++) {
      const r = await marketingQuery(dataDir, token, {
        path: '/api/v5/objects/prospects?fields=id&email=crash-new0%40example.com',
      });
      if (r.body.values.length > 0) break;
      await sleep(25);
    }
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const atKill = [...(await prospects()).keys()].filter((e) => e.startsWith('crash-new')).length;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(NEW_LEADS);

    // Restarted, it takes over the dead process's leased work once the lease has run out.
    const second = startSync(flags);
    let settled = new Map<string, Array<Record<string, unknown>>>();
    for (let i = 0; i < 240; i++) {
      settled = await prospects();
      const titles = (
        await conn.query<{ Title: string | null }>(
          "SELECT Title FROM Lead WHERE Company = 'Crash Co' AND Title != null",
          { autoFetch: true, maxFetch: 10_000 },
        )
      ).records.length;
      const phones = [...settled.entries()].filter(
        ([email, [p]]) => email.startsWith('crash-pair') && String(p?.phone ?? '').startsWith('crm-'),
      ).length;
      // Settled: every value shows on both sides, and the queue is worked off (the write-backs
      // that follow a new prospect — its URL and score on the Lead — come after it shows).
      if (settled.size === PAIRS + NEW_LEADS && titles === PAIRS && phones === PAIRS) {
        const status = await run(['sync', 'status', ...flags]);
        if (/^queue\s+0$/m.test(status.output)) break;
      }
      await sleep(250);
    }
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));

    // Nothing lost and nothing doubled: one prospect for each Lead, every change on both sides.
    expect(settled.size).toBe(PAIRS + NEW_LEADS);
    expect([...settled.values()].filter((list) => list.length !== 1).map((l) => l[0]?.email)).toEqual([]);
    const leads = (
      await conn.query<{ Email: string; Phone: string | null; Title: string | null }>(
        "SELECT Email, Phone, Title FROM Lead WHERE Company = 'Crash Co'",
        { autoFetch: true, maxFetch: 10_000 },
      )
    ).records;
    expect(leads).toHaveLength(PAIRS + NEW_LEADS);
    for (let i = 0; i < PAIRS; i++) {
      const email = `crash-pair${i}@example.com`;
      const [p] = settled.get(email)!;
      const lead = leads.find((l) => l.Email === email)!;
      expect([p!.phone, p!.jobTitle, lead.Phone, lead.Title]).toEqual([
        `crm-${i}`,
        `mkt-${i}`,
        `crm-${i}`,
        `mkt-${i}`,
      ]);
    }
    // No ping-pong: once settled, a pass writes nothing and leaves nothing queued.
    const quiet = await run(['sync', '--once', ...flags]);
    expect(quiet.output).toMatch(
      /prospects created 0, Leads created 0, writes to the CRM 0, to marketing 0, errors 0/,
    );
    expect((await run(['sync', 'status', ...flags])).output).toContain('queue          0');
    expect(await stop(demo)).toBe(0);
  }, 240_000);
});

async function createLeads(conn: jsforce.Connection, prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 200) {
    const saved = (await conn.sobject('Lead').create(
      Array.from({ length: Math.min(200, count - i) }, (_, j) => ({
        LastName: `${prefix} ${i + j}`,
        Company: 'Crash Co',
        Email: `${prefix}${i + j}@example.com`,
      })),
      { allOrNone: true },
    )) as Array<{ id: string }>;
    ids.push(...saved.map((s) => s.id));
  }
  return ids;
}
