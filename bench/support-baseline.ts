// What the machine itself allows for the same work, measured in the same run as a figure: a bare
// Fastify route answering the same request, bare better-sqlite3 inserts and reads of the same
// rows with the same indexes and transaction size, a bare JSON parse of the same bodies. An
// absolute figure on a shared 2-core machine moves by a third between runs; its ratio to the
// bare figure of the same run moves far less, and says how much of the time is Handoff's own.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { shown } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Prints a figure beside its bare baseline and their ratio: 1.0 is as fast as the machine allows
 * for the work, 0.2 says four fifths of the time is Handoff's own. For latencies (`lowerIsBetter`)
 * the ratio is bare ÷ figure, so it reads the same way.
 */
export function versus(
  label: string,
  value: number,
  bare: number,
  unit: string,
  target?: string,
  lowerIsBetter = false,
): void {
  const ratio = lowerIsBetter ? bare / value : value / bare;
  console.log(
    `${label.padEnd(52)} ${shown(value).padStart(10)} ${unit}   bare ${shown(bare)}   ratio ${ratio.toFixed(2)}` +
      (target ? `   (target ${target})` : ''),
  );
}

export interface BareReply {
  method: string;
  /** The path prefix the reply answers. */
  prefix: string;
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface BareServer {
  url: URL;
  stop(): Promise<void>;
}

/** Starts a bare Fastify server in its own process (as the real one runs) with these replies. */
export async function bareServer(replies: BareReply[]): Promise<BareServer> {
  const child = spawn(process.execPath, [...process.execArgv, join(here, 'support-bare-server.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BARE_REPLIES: JSON.stringify(replies) },
  });
  const url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /^(http:\/\/\S+)$/m.exec(out);
      if (line) resolve(new URL(line[1]!));
    });
    child.on('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  child.removeAllListeners('exit');
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Opens the data dir's database read-only, for baselines taken from the server's own rows. */
function serverDatabase(dataDir: string): Database.Database {
  return new Database(join(dataDir, 'handoff.db'), { readonly: true });
}

/**
 * Bare inserts: `table`'s definition and indexes (not its triggers: what they keep, such as a
 * search index, is Handoff's own work) copied from the server's database into a fresh one with
 * the server's pragmas, and the server's own rows (the first `rows` that `where` keeps)
 * inserted there, `perTransaction` to a transaction. Only the inserts are timed. Rows per second.
 */
export function bareInserts(
  dataDir: string,
  table: string,
  options: { rows: number; perTransaction: number; where?: string },
): number {
  const source = serverDatabase(dataDir);
  const dir = mkdtempSync(join(tmpdir(), 'handoff-bare-'));
  const target = new Database(join(dir, 'bare.db'));
  try {
    target.pragma('journal_mode = WAL');
    target.pragma('synchronous = NORMAL');
    target.pragma('cache_size = -65536');
    const ddl = source
      .prepare(
        `select sql from sqlite_master where tbl_name = ? and sql is not null and type in ('table', 'index')
         order by case type when 'table' then 0 else 1 end`,
      )
      .pluck()
      .all(table) as string[];
    if (ddl.length === 0) throw new Error(`no table ${table} in the server's database`);
    for (const statement of ddl) target.exec(statement);
    const columns = (source.prepare(`select * from "${table}" limit 0`).columns() as unknown[]).length;
    const insert = target.prepare(`insert into "${table}" values (${Array(columns).fill('?').join(', ')})`);
    const insertAll = target.transaction((chunk: unknown[][]) => {
      for (const row of chunk) insert.run(row);
    });
    const read = source
      .prepare(
        `select * from "${table}" ${options.where ? `where ${options.where}` : ''} order by rowid limit ?`,
      )
      .raw();
    let chunk: unknown[][] = [];
    let count = 0;
    let nanos = 0n;
    const flush = () => {
      const started = process.hrtime.bigint();
      insertAll(chunk);
      nanos += process.hrtime.bigint() - started;
      count += chunk.length;
      chunk = [];
    };
    for (const row of read.iterate(options.rows) as Iterable<unknown[]>) {
      chunk.push(row);
      if (chunk.length === options.perTransaction) flush();
    }
    if (chunk.length > 0) flush();
    if (count < options.rows) throw new Error(`only ${count} rows of ${table} to copy`);
    return count / (Number(nanos) / 1e9);
  } finally {
    target.close();
    source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A bare read: one ordered scan of the server's own table (its indexes serve the order), each
 * `pageRows` rows turned into the text a page carries (JSON, or CSV lines). Rows per second.
 */
export function bareScan(
  dataDir: string,
  sql: string,
  options: { pageRows: number; format: 'json' | 'csv'; params?: unknown[] },
): number {
  const source = serverDatabase(dataDir);
  try {
    const started = process.hrtime.bigint();
    const statement = source.prepare(sql);
    if (options.format === 'csv') statement.raw();
    let page: unknown[] = [];
    let count = 0;
    let bytes = 0;
    const emit = () => {
      bytes +=
        options.format === 'json'
          ? JSON.stringify(page).length
          : (page as unknown[][]).map((r) => r.join(',')).join('\n').length;
      count += page.length;
      page = [];
    };
    for (const row of statement.iterate(...(options.params ?? []))) {
      page.push(row);
      if (page.length === options.pageRows) emit();
    }
    emit();
    if (bytes === 0) throw new Error('the bare scan read nothing');
    return count / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    source.close();
  }
}

/** A bare JSON.parse of the same bodies: bodies per second. */
export function bareJsonParse(bodies: string[], rounds = 3): number {
  const started = process.hrtime.bigint();
  let keys = 0;
  for (let round = 0; round < rounds; round++)
    for (const body of bodies) keys += Object.keys(JSON.parse(body) as object).length;
  if (keys === 0) throw new Error('nothing parsed');
  return (bodies.length * rounds) / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** A bare query, `total` times one after another on the server's own tables: queries per second. */
export function bareQueries(
  dataDir: string,
  sql: string,
  total: number,
  params: (i: number) => unknown[],
): number {
  const source = serverDatabase(dataDir);
  try {
    const statement = source.prepare(sql);
    let rows = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < total; i++) rows += statement.all(...params(i)).length;
    if (rows === 0) throw new Error('the bare queries found nothing');
    return total / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    source.close();
  }
}
