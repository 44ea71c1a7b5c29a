import type jsforce from 'jsforce';

/**
 * One sObject Collections or query call that may travel inside a Composite call with others:
 * Salesforce counts the whole Composite request as one call against the daily API limit, and
 * takes up to five Collections or query subrequests in it (API 43.0 on).
 */
export type CompositePart =
  | { kind: 'query'; soql: string; recycleBin?: boolean }
  | { kind: 'update'; object: string; records: ReadonlyArray<Record<string, unknown>> }
  | {
      kind: 'upsert';
      object: string;
      externalIdField: string;
      records: ReadonlyArray<Record<string, unknown>>;
    };

/** A part's answer: the body its own call would have had, or the error it would have thrown. */
export type CompositeAnswer = { ok: true; body: unknown } | { ok: false; error: Error };

/** Collections or query subrequests a Composite call may hold. */
export const PARTS_PER_COMPOSITE = 5;

interface SubResponse {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}

/**
 * Sends the parts, five to a Composite call (a group of one goes as its own call, as it
 * would without Composite). Each part is answered in order, never thrown: a part the CRM
 * refused as a whole (a 4xx subrequest) answers its error, and every part of a Composite call
 * that got no answer answers that call's error — the groups sent before it keep their answers.
 */
export async function sendParts(
  conn: jsforce.Connection,
  parts: readonly CompositePart[],
): Promise<CompositeAnswer[]> {
  const answers: CompositeAnswer[] = [];
  for (let i = 0; i < parts.length; i += PARTS_PER_COMPOSITE) {
    const group = parts.slice(i, i + PARTS_PER_COMPOSITE);
    if (group.length === 1) {
      answers.push(await sendAlone(conn, group[0]!));
      continue;
    }
    try {
      answers.push(...(await sendGroup(conn, group)));
    } catch (error) {
      answers.push(...group.map((): CompositeAnswer => ({ ok: false, error: error as Error })));
    }
  }
  return answers;
}

function subrequest(version: string, part: CompositePart, referenceId: string) {
  const base = `/services/data/v${version}`;
  const records = (object: string, rows: ReadonlyArray<Record<string, unknown>>) =>
    rows.map((row) => ({ attributes: { type: object }, ...row }));
  switch (part.kind) {
    case 'query':
      return {
        method: 'GET',
        url: `${base}/${part.recycleBin ? 'queryAll' : 'query'}?q=${encodeURIComponent(part.soql)}`,
        referenceId,
      };
    case 'update':
      return {
        method: 'PATCH',
        url: `${base}/composite/sobjects`,
        referenceId,
        body: { allOrNone: false, records: records(part.object, part.records) },
      };
    case 'upsert':
      return {
        method: 'PATCH',
        url: `${base}/composite/sobjects/${part.object}/${part.externalIdField}`,
        referenceId,
        body: { allOrNone: false, records: records(part.object, part.records) },
      };
  }
}

async function sendGroup(
  conn: jsforce.Connection,
  group: readonly CompositePart[],
): Promise<CompositeAnswer[]> {
  const compositeRequest = group.map((part, i) => subrequest(conn.version, part, `part${i}`));
  const answer = (await conn.request({
    method: 'POST',
    url: `/services/data/v${conn.version}/composite`,
    body: JSON.stringify({ allOrNone: false, compositeRequest }),
    headers: { 'content-type': 'application/json' },
  })) as { compositeResponse: SubResponse[] };
  const byRef = new Map(answer.compositeResponse.map((r) => [r.referenceId, r]));
  return Promise.all(
    group.map(async (part, i): Promise<CompositeAnswer> => {
      const sub = byRef.get(`part${i}`);
      if (!sub) return { ok: false, error: new Error('no answer in the Composite response') };
      if (sub.httpStatusCode >= 400) return { ok: false, error: subrequestError(sub.body) };
      if (part.kind !== 'query') return { ok: true, body: sub.body };
      return { ok: true, body: await followPages(conn, sub.body as QueryPage) };
    }),
  );
}

async function sendAlone(conn: jsforce.Connection, part: CompositePart): Promise<CompositeAnswer> {
  try {
    if (part.kind === 'query') {
      const result = await conn.query(part.soql, { autoFetch: true, scanAll: part.recycleBin ?? false });
      return { ok: true, body: { records: result.records } };
    }
    const rows = part.records.map((row) => ({ ...row })) as never;
    const body =
      part.kind === 'update'
        ? await conn.sobject(part.object).update(rows, { allOrNone: false })
        : await conn.sobject(part.object).upsert(rows, part.externalIdField, { allOrNone: false });
    return { ok: true, body };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

interface QueryPage {
  records: Array<Record<string, unknown>>;
  done: boolean;
  nextRecordsUrl?: string;
}

/** A query subrequest answers its first page; the rest are read as a query would. */
async function followPages(conn: jsforce.Connection, first: QueryPage): Promise<{ records: unknown[] }> {
  const records: unknown[] = [...first.records];
  let page = first;
  while (!page.done && page.nextRecordsUrl) {
    page = (await conn.request(page.nextRecordsUrl)) as QueryPage;
    records.push(...page.records);
  }
  return { records };
}

/** A refused subrequest's error, named by its error code as jsforce names a call's. */
function subrequestError(body: unknown): Error {
  const first = Array.isArray(body) ? (body[0] as { errorCode?: string; message?: string }) : undefined;
  const error = new Error(first?.message ?? JSON.stringify(body));
  error.name = first?.errorCode ?? 'COMPOSITE_SUBREQUEST_FAILED';
  return error;
}
