import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import type { AccountEngagementTransport } from './ae-transport.js';

/** A prospect as an export's CSV row gives it: text, with ids as numbers and empty cells null. */
export type ExportedProspect = Record<string, unknown> & { id: number };

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
 * Rows are yielded file by file, so a caller that does not keep them holds one file at a time.
 */
export async function* exportProspects(
  transport: AccountEngagementTransport,
  fields: readonly string[],
  options: { pollMs?: number; now?: () => Date } = {},
): AsyncGenerator<ExportedProspect> {
  const now = options.now ?? (() => new Date());
  const oldest = await transport.json<{ values: Array<{ createdAt: string }> }>({
    method: 'GET',
    path: '/api/v5/objects/prospects',
    query: { fields: 'id,createdAt', orderBy: 'createdAt asc', limit: 1 },
    idempotent: true,
  });
  const first = oldest.values[0];
  if (!first) return;
  const names = [...new Set(['id', ...fields])];
  const end = now().getTime() + 60_000;
  for (let from = Date.parse(first.createdAt) - 1_000; from < end; from += WINDOW_MS) {
    const job = await transport.json<ExportJob>({
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
          },
        },
      },
      idempotent: false,
    });
    const done = await finished(transport, job, options.pollMs ?? 250);
    for (const ref of done.resultRefs ?? []) {
      // A real unit names results by absolute URL, the embedded engine by path.
      const path = /^https?:/.test(ref) ? new URL(ref).pathname : ref;
      const csv = await transport.text({ method: 'GET', path, idempotent: true });
      const rows = parse(csv, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
      for (const row of rows) yield prospectOf(row);
    }
  }
}

async function finished(
  transport: AccountEngagementTransport,
  job: ExportJob,
  pollMs: number,
): Promise<ExportJob> {
  for (let current = job; ; current = await exportStatus(transport, job.id)) {
    if (current.status === 'Complete') return current;
    if (current.status === 'Failed') throw new Error(`export ${job.id} failed`);
    await sleep(pollMs);
  }
}

function exportStatus(transport: AccountEngagementTransport, id: number): Promise<ExportJob> {
  return transport.json<ExportJob>({ method: 'GET', path: `/api/v5/exports/${id}`, idempotent: true });
}

function prospectOf(row: Record<string, string>): ExportedProspect {
  const prospect: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(row)) {
    if (text === '') prospect[name] = null;
    else if (NUMERIC.has(name) && /^-?\d+(\.\d+)?$/.test(text)) prospect[name] = Number(text);
    else if (name === 'isDeleted') prospect[name] = text === 'true';
    else prospect[name] = text;
  }
  return prospect as ExportedProspect;
}
