import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import { listViewsOf, type ListView } from '../domain/list-views.js';
import type { ObjectDef } from '../domain/schema/field-def.js';

const typeParams = z.object({ type: z.string() });
const viewParams = typeParams.extend({ id: z.string() });
const resultsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(2000).default(25),
  offset: z.coerce.number().int().min(0).max(2000).default(0),
});

/** Every list view of the served objects (their ids are stable by the object's place in the schema). */
export function allListViews(services: CrmServices): ListView[] {
  return services.schema.allObjects().flatMap((def, i) => listViewsOf(def, i));
}

function viewsOf(services: CrmServices, def: ObjectDef): ListView[] {
  return allListViews(services).filter((v) => v.object.name === def.name);
}

function column(view: ListView, name: string) {
  const f = view.object.fields.find((x) => x.name === name);
  return {
    ascendingLabel: 'A-Z',
    descendingLabel: 'Z-A',
    fieldNameOrPath: name,
    hidden: name === 'Id',
    label: f?.label ?? name,
    searchable: Boolean(f && (f.type === 'string' || f.type === 'email' || f.type === 'phone')),
    selectListItem: name,
    sortDirection: name === 'Name' ? 'ascending' : null,
    sortIndex: name === 'Name' ? 0 : null,
    sortable: name !== 'Id',
    type: f?.type ?? 'string',
  };
}

/**
 * `sobjects/{T}/listviews`, a view's `describe` and `results`: each object's "All" and
 * "Recently Viewed" list views, run as SOQL, in the shapes jsforce's listviews(),
 * listview(id).describe() and .results() read.
 */
export function listViewRoutes(app: FastifyInstance, services: CrmServices): void {
  const { records } = services;
  const base = (apiVersion: string, def: ObjectDef) =>
    `/services/data/v${apiVersion}/sobjects/${def.name}/listviews`;
  const find = (type: string, id: string): ListView => {
    const def = records.objectDef(type);
    const view = viewsOf(services, def).find((v) => v.id === id || v.id.slice(0, 15) === id);
    if (!view) throw new HandoffError('NOT_FOUND', 'The requested resource does not exist');
    return view;
  };
  const summary = (view: ListView, apiVersion: string) => {
    const url = `${base(apiVersion, view.object)}/${view.id}`;
    return {
      describeUrl: `${url}/describe`,
      developerName: view.developerName,
      id: view.id,
      label: view.label,
      resultsUrl: `${url}/results`,
      soqlCompatible: true,
      url,
    };
  };

  app.get('/sobjects/:type/listviews', async (request) => {
    const def = records.objectDef(typeParams.parse(request.params).type);
    const views = viewsOf(services, def).map((v) => summary(v, request.crm.apiVersion));
    return { done: true, listviews: views, nextRecordsUrl: null, size: views.length, sobjectType: def.name };
  });

  app.get('/sobjects/:type/listviews/:id', async (request) => {
    const { type, id } = viewParams.parse(request.params);
    return summary(find(type, id), request.crm.apiVersion);
  });

  app.get('/sobjects/:type/listviews/:id/describe', async (request) => {
    const { type, id } = viewParams.parse(request.params);
    const view = find(type, id);
    return {
      columns: view.columns.map((c) => column(view, c)),
      id: view.id,
      orderBy: [
        {
          fieldNameOrPath: view.columns.includes('Name') ? 'Name' : 'Id',
          nullsPosition: 'first',
          sortDirection: 'ascending',
        },
      ],
      query: view.query,
      scope: null,
      sobjectType: view.object.name,
      whereCondition: { conditions: [], conjunction: 'and' },
    };
  });

  app.get('/sobjects/:type/listviews/:id/results', async (request) => {
    const { type, id } = viewParams.parse(request.params);
    const { limit, offset } = resultsQuery.parse(request.query);
    const view = find(type, id);
    const answer = await services.queries.query(`${view.query} LIMIT ${limit} OFFSET ${offset}`, {
      includeDeleted: false,
      pageSize: limit,
      userId: request.crm.userId,
      apiVersion: request.crm.apiVersion,
    });
    const rows = answer.records as Array<Record<string, unknown>>;
    return {
      columns: view.columns.map((c) => column(view, c)),
      developerName: view.developerName,
      done: true,
      id: view.id,
      label: view.label,
      records: rows.map((r) => ({
        columns: view.columns.map((c) => ({
          fieldNameOrPath: c,
          value: r[c] === null || r[c] === undefined ? null : String(r[c]),
        })),
      })),
      size: rows.length,
    };
  });
}
