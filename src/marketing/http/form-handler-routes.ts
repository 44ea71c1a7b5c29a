import type { FastifyInstance } from 'fastify';
import type { MarketingServices } from '../marketing-services.js';
import { requestVisitor } from './visitor-cookie.js';
import { pathParams } from './route-input.js';

/**
 * `POST /l/:unitId/:formHandlerId`: where a customer's own HTML form posts (form-encoded, or
 * JSON). Public, as a form is: the answer is a redirect to the handler's success location, or to
 * its error location with `errorMessage` and each failed field as query parameters.
 */
export function formHandlerRoutes(app: FastifyInstance, services: MarketingServices): void {
  app.post('/l/:unitId/:formHandlerId', async (request, reply) => {
    const { unitId, formHandlerId } = pathParams(request, ['unitId', 'formHandlerId']);
    const raw = request.body;
    const body = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
      string,
      unknown
    >;
    const input = Object.fromEntries(
      Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v.map(formText).join(';') : formText(v)]),
    );
    const unit = services.units.get(unitId);
    const outcome =
      unit &&
      (await services.formHandlers.submit(
        unit,
        /^\d{1,15}$/.test(formHandlerId) ? Number(formHandlerId) : NaN,
        input,
        requestVisitor(request, unit, services.tracking, body),
      ));
    if (!outcome) return reply.code(404).type('text/plain; charset=utf-8').send('No such form handler');
    if (outcome.ok) {
      if (outcome.redirect) return reply.redirect(outcome.redirect, 302);
      return reply.type('text/html; charset=utf-8').send('<!doctype html><p>Thank you.</p>');
    }
    if (outcome.redirect && URL.canParse(outcome.redirect)) {
      const url = new URL(outcome.redirect);
      url.searchParams.set('errorMessage', 'Please correct the errors below');
      for (const [field, message] of Object.entries(outcome.errors)) url.searchParams.set(field, message);
      return reply.redirect(url.toString(), 302);
    }
    return reply
      .code(400)
      .type('text/plain; charset=utf-8')
      .send(
        Object.entries(outcome.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
      );
  });
}

/** A posted value as a form field's text: JSON bodies may nest, a form field does not. */
function formText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
