import { MarketingError } from '../domain/marketing-error.js';
import { queryDatetime } from '../domain/unit-time.js';
import { FIELD_BY_NAME, type ProspectValue } from '../domain/prospect-fields.js';
import type { DeletedFilter, ProspectQuery } from '../store/prospect-store.js';
import { ownValue } from '../../own-value.js';

type Op = '>' | '<' | '>=' | '<=' | '=';

/** v5 filter parameters: the field they filter, and how. */
const FILTERS: Record<string, { field: string; op: Op }> = {
  idGreaterThan: { field: 'id', op: '>' },
  idGreaterThanOrEqualTo: { field: 'id', op: '>=' },
  idLessThan: { field: 'id', op: '<' },
  idLessThanOrEqualTo: { field: 'id', op: '<=' },
  createdAtAfter: { field: 'createdAt', op: '>' },
  createdAtAfterOrEqualTo: { field: 'createdAt', op: '>=' },
  createdAtBefore: { field: 'createdAt', op: '<' },
  createdAtBeforeOrEqualTo: { field: 'createdAt', op: '<=' },
  updatedAtAfter: { field: 'updatedAt', op: '>' },
  updatedAtAfterOrEqualTo: { field: 'updatedAt', op: '>=' },
  updatedAtBefore: { field: 'updatedAt', op: '<' },
  updatedAtBeforeOrEqualTo: { field: 'updatedAt', op: '<=' },
  email: { field: 'email', op: '=' },
};

const ORDERABLE = new Set(['id', 'createdAt', 'updatedAt', 'lastActivityAt']);
const MAX_FILTERED_FIELDS = 3;
export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 1000;

/** The parameters a first query request may carry besides filters. */
const QUERY_PARAMETERS = new Set(['fields', 'limit', 'orderBy', 'deleted', 'nextPageToken']);

/** Reads a first-page v5 query's parameters into a store query (without unit and position). */
export function parseProspectQuery(
  params: Record<string, unknown>,
  timeZone: string,
): Omit<ProspectQuery, 'unitId' | 'after'> {
  const where: ProspectQuery['where'] = [];
  const filtered = new Set<string>();
  for (const [name, raw] of Object.entries(params)) {
    if (QUERY_PARAMETERS.has(name)) continue;
    const filter = ownValue(FILTERS, name);
    if (!filter) throw new MarketingError(5, `Invalid query parameter: ${name}`);
    if (typeof raw !== 'string' || raw === '') throw new MarketingError(5, `Invalid value for ${name}`);
    filtered.add(filter.field);
    const column = FIELD_BY_NAME.get(filter.field)!.column;
    let value: ProspectValue;
    if (filter.field === 'id') {
      if (!/^\d+$/.test(raw)) throw new MarketingError(5, `Invalid value for ${name}: ${raw}`);
      value = Number(raw);
    } else if (filter.field === 'email') {
      value = raw;
    } else {
      value = queryDatetime(name, raw, timeZone);
    }
    where.push([column, filter.op, value]);
  }
  if (filtered.size > MAX_FILTERED_FIELDS) throw new MarketingError(209);

  const deletedRaw = params.deleted ?? 'false';
  if (deletedRaw !== 'true' && deletedRaw !== 'false' && deletedRaw !== 'all') {
    throw new MarketingError(5, `Invalid value for deleted: ${String(deletedRaw)}`);
  }

  let limit = DEFAULT_LIMIT;
  if (params.limit !== undefined) {
    limit = Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new MarketingError(5, `Invalid value for limit: must be 1 to ${MAX_LIMIT}`);
    }
  }

  let orderColumn = 'id';
  let descending = false;
  if (params.orderBy !== undefined) {
    const match = /^\s*(\w+)(?:\s+(ASC|DESC))?\s*$/i.exec(String(params.orderBy));
    if (!match || !ORDERABLE.has(match[1]!)) {
      throw new MarketingError(5, `Invalid value for orderBy: ${String(params.orderBy)}`);
    }
    orderColumn = FIELD_BY_NAME.get(match[1]!)!.column;
    descending = match[2]?.toUpperCase() === 'DESC';
  }
  return { deleted: deletedRaw as DeletedFilter, where, orderColumn, descending, limit };
}
