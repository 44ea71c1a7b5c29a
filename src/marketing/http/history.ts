import type { FastifyInstance } from 'fastify';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { pathParams } from './route-input.js';

/**
 * `/_handoff/prospects/{id}/history`: every field change of a prospect with its old and new
 * value, time and actor — Handoff's own route (Account Engagement has no API for it), read by
 * the connector and the console.
 */
export function historyRoutes(app: FastifyInstance, services: MarketingServices): void {
  app.get('/_handoff/prospects/:id/history', async (request) => {
    const raw = pathParams(request, ['id']).id;
    if (!/^\d{1,15}$/.test(raw)) throw new MarketingError(3);
    const { unit } = request.marketing;
    await services.prospects.read(unit.id, Number(raw));
    return { values: await services.prospects.history(unit.id, Number(raw)) };
  });
}
