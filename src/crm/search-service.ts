import { HandoffError } from '../errors/handoff-error.js';
import type { SchemaRegistry } from './domain/schema/schema-registry.js';
import { isSearchable } from './domain/sosl/searchable.js';
import {
  parseSearchTerm,
  parseSosl,
  type ReturningObject,
  type SearchExpression,
  type SearchScope,
} from './domain/sosl/sosl.js';
import type { QueryService, WireRecord } from './query-service.js';

/** Salesforce returns at most 2,000 records a search. */
export const MAX_SEARCH_RESULTS = 2000;

/** What `parameterizedSearch` is asked: a plain term, where to look, and which objects and fields. */
export interface ParameterizedSearch {
  q: string;
  in?: SearchScope;
  /** Fields for objects that name none of their own. */
  fields?: string[];
  sobjects?: Array<{ name: string; fields?: string[]; where?: string; orderBy?: string; limit?: number }>;
  overallLimit?: number;
  defaultLimit?: number;
}

/** SOSL (`/search`) and `parameterizedSearch`, over each searchable object's text index. */
export class SearchService {
  constructor(private readonly deps: { schema: SchemaRegistry; queries: QueryService }) {}

  async search(sosl: string, apiVersion: string): Promise<{ searchRecords: WireRecord[] }> {
    const parsed = parseSosl(sosl);
    return this.run(parsed.expression, parsed.scope, parsed.returning, parsed.limit, apiVersion);
  }

  async parameterized(
    input: ParameterizedSearch,
    apiVersion: string,
  ): Promise<{ searchRecords: WireRecord[] }> {
    if (!input.q || input.q.trim().length < 2)
      throw new HandoffError('MALFORMED_SEARCH', 'search term must be longer than one character');
    const returning: ReturningObject[] = (input.sobjects ?? []).map((o) => {
      const fields = o.fields ?? input.fields;
      const limit = o.limit ?? input.defaultLimit;
      const clauses = [
        o.where ? `WHERE ${o.where}` : '',
        o.orderBy ? `ORDER BY ${o.orderBy}` : '',
        limit !== undefined ? `LIMIT ${Math.trunc(limit)}` : '',
      ].join(' ');
      return { object: o.name, fields: fields && fields.length > 0 ? fields.join(', ') : null, clauses };
    });
    return this.run(
      parseSearchTerm(input.q),
      input.in ?? 'ALL',
      returning,
      input.overallLimit ?? null,
      apiVersion,
    );
  }

  private async run(
    expression: SearchExpression,
    scope: SearchScope,
    returning: ReturningObject[],
    limit: number | null,
    apiVersion: string,
  ): Promise<{ searchRecords: WireRecord[] }> {
    // Without RETURNING: every searchable object, its Id only.
    const objects =
      returning.length > 0
        ? returning
        : this.deps.schema
            .allObjects()
            .filter(isSearchable)
            .map((def) => ({ object: def.name, fields: null, clauses: '' }));
    let remaining = Math.min(limit ?? MAX_SEARCH_RESULTS, MAX_SEARCH_RESULTS);
    const searchRecords: WireRecord[] = [];
    for (const object of objects) {
      if (remaining <= 0) break;
      const rows = await this.deps.queries.searchRows(object, { scope, expression }, remaining, apiVersion);
      searchRecords.push(...rows);
      remaining -= rows.length;
    }
    return { searchRecords };
  }
}
