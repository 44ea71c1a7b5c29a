import { setTimeout as sleep } from 'node:timers/promises';
import { csvRows } from '../csv-rows.js';
import { pollWaits } from '../poll-waits.js';
import type { AccountEngagementTransport } from './ae-transport.js';

/** A prospect as an export's CSV row gives it: text, with ids as numbers and empty cells null. */
export type ExportedProspect = Record<string, unknown> & { id: number };

/** One result file of an export: its rows of CSV text under their columns (field names). */
export interface ExportPage {
  columns: string[];
  rows: string[][];
}

interface ExportJob {
  id: number;
  status: 'Waiting' | 'Processing' | 'Complete' | 'Failed';
  resultRefs?: string[];
}

/** An export covers at most a year of creation dates (the unit's limit on a procedure's range). */
const WINDOW_MS = 365 * 24 * 3600_000;
/** Fields whose CSV text is a number the rest of the connector reads as one. */
const NUMERIC = new Set(['id', 'campaignId', 'assignedToId', 'score', 'prospectAccountId']);

/**
 * Every live prospect of the unit, read through v5 exports rather than list pages: an export is
 * a few calls (start, status, one per result file of up to 100,000 rows) where paging costs one
 * call per 1,000. Creation dates are covered a year an export, from the oldest prospect's on.
 * The exports are started at once, so the unit works on them while the caller does other
 * reading; the files are then yielded one at a time, as rows of text (`prospectOf` makes a
 * row a record), so a reader of millions builds no object per prospect.
 */
export async function startProspectExport(
  transport: AccountEngagementTransport,
  fields: readonly string[],
  options: { pollMs?: number; now?: () => Date; deleted?: boolean } = {},
): Promise<AsyncGenerator<ExportPage>> {
  const now = options.now ?? (() => new Date());
  const oldest = await transport.json<{ values: Array<{ createdAt: string }> }>({
    method: 'GET',
    path: '/api/v5/objects/prospects',
    query: { fields: 'id,createdAt', orderBy: 'createdAt asc', limit: 1 },
    idempotent: true,
  });
  const first = oldest.values[0];
  const names = [...new Set(['id', ...fields])];
  const end = now().getTime() + 60_000;
  const jobs: ExportJob[] = [];
  for (let from = first ? Date.parse(first.createdAt) - 1_000 : end; from < end; from += WINDOW_MS) {
    jobs.push(
      await transport.json<ExportJob>({
        method: 'POST',
        path: '/api/v5/exports',
        body: {
          object: 'Prospect',
          fields: names,
          procedure: {
            name: 'filter_by_created_at',
            arguments: {
              created_after: new Date(from).toISOString(),
              created_before: new Date(Math.min(from + WINDOW_MS, end)).toISOString(),
              // The recycle bin's too (told by `isDeleted`): a reader can tell deleted from gone.
              ...(options.deleted ? { deleted: 'all' } : {}),
            },
          },
        },
        idempotent: false,
      }),
    );
  }
  return results(transport, jobs, options.pollMs ?? 250);
}

async function* results(
  transport: AccountEngagementTransport,
  jobs: readonly ExportJob[],
  pollMs: number,
): AsyncGenerator<ExportPage> {
  for (const job of jobs) {
    const done = await finished(transport, job, pollMs);
    // A real unit names results by absolute URL, the embedded engine by path. Each file is
    // asked for while the one before it is parsed and read.
    const paths = (done.resultRefs ?? []).map((ref) => (/^https?:/.test(ref) ? new URL(ref).pathname : ref));
    const fetchFile = (path: string) => transport.text({ method: 'GET', path, idempotent: true });
    let pending = paths[0] === undefined ? null : fetchFile(paths[0]);
    for (let i = 0; pending; i += 1) {
      const csv = await pending;
      pending = paths[i + 1] === undefined ? null : fetchFile(paths[i + 1]!);
      // Met when awaited on the next turn; a reader that stops early must not leave it unhandled.
      pending?.catch(() => undefined);
      const [columns, ...rows] = csvRows(csv);
      if (columns) yield { columns, rows };
    }
  }
}

async function finished(
  transport: AccountEngagementTransport,
  job: ExportJob,
  pollMs: number,
): Promise<ExportJob> {
  const waits = pollWaits(pollMs);
  for (let current = job; ; current = await exportStatus(transport, job.id)) {
    if (current.status === 'Complete') return current;
    if (current.status === 'Failed') throw new Error(`export ${job.id} failed`);
    await sleep(waits.next().value);
  }
}

function exportStatus(transport: AccountEngagementTransport, id: number): Promise<ExportJob> {
  return transport.json<ExportJob>({ method: 'GET', path: `/api/v5/exports/${id}`, idempotent: true });
}

/** An export row as a prospect record: text, with ids as numbers and empty cells null. */
export function prospectOf(columns: readonly string[], row: readonly string[]): ExportedProspect {
  const prospect: Record<string, unknown> = {};
  for (const [i, name] of columns.entries()) {
    const text = row[i] ?? '';
    if (text === '') prospect[name] = null;
    else if (NUMERIC.has(name) && /^-?\d+(\.\d+)?$/.test(text)) prospect[name] = Number(text);
    else if (name === 'isDeleted') prospect[name] = text === 'true';
    else prospect[name] = text;
  }
  return prospect as ExportedProspect;
}
