import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import { pageSizeFrom } from '../query-service.js';
import { allListViews } from './list-views.js';

/**
 * SOQL: `/query` and `/queryAll` (or their column metadata with `columns=true`), and their next
 * pages at `/query/{locator}`.
 */
export function queryRoutes(app: FastifyInstance, services: CrmServices): void {
  for (const resource of ['query', 'queryAll'] as const) {
    const includeDeleted = resource === 'queryAll';
    app.get(`/${resource}`, async (request) => {
      const { q, columns, explain } = z
        .object({ q: z.string().optional(), columns: z.string().optional(), explain: z.string().optional() })
        .parse(request.query);
      // jsforce's query(…).explain() asks `query/?explain=<soql>` for the optimizer's plan.
      if (explain !== undefined && q === undefined) {
        if (explain.trim() === '')
          throw new HandoffError('MALFORMED_QUERY', 'A query to explain is required');
        // A list view's id (jsforce's listview(id).explain()) explains the view's query.
        const view = allListViews(services).find((v) => v.id === explain || v.id.slice(0, 15) === explain);
        return services.queries.explain(view ? view.query : explain);
      }
      if (!q || q.trim() === '') throw new HandoffError('MALFORMED_QUERY', 'A query string (q) is required');
      // The Salesforce CLI asks for the columns after every query, to lay out its table.
      if (columns === 'true') return services.queries.columns(q, includeDeleted);
      const header = request.headers['sforce-query-options'];
      return services.queries.query(q, {
        includeDeleted,
        pageSize: pageSizeFrom(Array.isArray(header) ? header[0] : header),
        userId: request.crm.userId,
        apiVersion: request.crm.apiVersion,
      });
    });
    app.get(`/${resource}/:locator`, async (request) => {
      const { locator } = z.object({ locator: z.string() }).parse(request.params);
      return services.queries.more(locator, {
        userId: request.crm.userId,
        apiVersion: request.crm.apiVersion,
        includeDeleted,
      });
    });
  }
}
