import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EMAILS } from '../collections/collection-defs.js';
import { MarketingError } from '../domain/marketing-error.js';
import { sendEmailSchema } from '../email/email-service.js';
import { escapeHtml, page } from '../forms/form-page.js';
import type { MarketingServices } from '../marketing-services.js';
import { fieldsOf, recordJson } from './v5-collections.js';
import { objectBody } from './v5-wire.js';
import { publicBase } from './public-base.js';
import { pathParams, queryParams } from './route-input.js';

/** A transparent 1×1 GIF: the open pixel. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const html = 'text/html; charset=utf-8';

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

/**
 * What a recipient's mail client and browser reach (public, by the recipient's tracking id):
 * `GET /e/:token/o.gif` (open), `GET /e/:token/c/:n` (click, redirected to the email's n-th
 * link and nowhere else), `GET|POST /e/:token/u` (the unsubscribe page, and RFC 8058 one-click).
 */
export function emailTrackingRoutes(app: FastifyInstance, services: MarketingServices): void {
  const units = (id: string) => services.units.get(id);

  app.get('/e/:token/o.gif', async (request, reply) => {
    await services.email.opened(units, pathParams(request, ['token']).token);
    // The pixel either way: a mail client shows no broken image for an old or unknown token.
    return reply.type('image/gif').header('cache-control', 'no-store, private').send(PIXEL);
  });

  app.get('/e/:token/c/:position', async (request, reply) => {
    const { token, position } = pathParams(request, ['token', 'position']);
    const url = /^\d{1,6}$/.test(position)
      ? await services.email.clicked(units, token, Number(position))
      : null;
    if (!url)
      return reply
        .code(404)
        .type(html)
        .send(page({ title: 'Link not found', body: '<main><p>This link is not known.</p></main>' }));
    return reply.redirect(url, 302);
  });

  app.get('/e/:token/u', async (request, reply) => {
    const { token } = pathParams(request, ['token']);
    return reply.type(html).send(
      page({
        title: 'Unsubscribe',
        body: `<main><h1>Unsubscribe</h1><form method="post" action="/e/${escapeHtml(token)}/u">
<p>Stop receiving our marketing emails?</p><p><button type="submit">Unsubscribe</button></p></form></main>`,
      }),
    );
  });

  app.post('/e/:token/u', async (request, reply) => {
    const done = await services.email.unsubscribed(units, pathParams(request, ['token']).token);
    if (!done)
      return reply
        .code(404)
        .type(html)
        .send(page({ title: 'Unsubscribe', body: '<main><p>This link is not known.</p></main>' }));
    return reply.type(html).send(
      page({
        title: 'Unsubscribed',
        body: '<main><p role="status">You are unsubscribed and will get no more marketing emails from us.</p></main>',
      }),
    );
  });
}

const bounceSchema = z
  .object({
    prospectId: z.number().int(),
    type: z.enum(['hard', 'soft']),
    reason: z.string().max(1000).optional(),
  })
  .strict();

/**
 * v5 `POST /api/v5/objects/emails` (send a one-to-one or list email) and
 * `POST /api/v5/objects/emails/:id/do/recordBounce`; reads are the `emails` collection's.
 */
export function v5EmailRoutes(app: FastifyInstance, services: MarketingServices): void {
  app.post('/api/v5/objects/emails', async (request, reply) => {
    const { unit } = request.marketing;
    const fields = fieldsOf(EMAILS, queryParams(request).fields ?? 'id');
    const parsed = sendEmailSchema.safeParse(objectBody(request.body));
    if (!parsed.success) throw new MarketingError(62, `Invalid email: ${zodMessage(parsed.error)}`);
    const baseUrl = publicBase(services.publicUrl, request);
    const record = await services.email.send(unit, parsed.data, baseUrl);
    return reply
      .code(201)
      .header('Location', `/api/v5/objects/emails/${record.id}`)
      .send(recordJson(EMAILS, record, fields, unit.timeZone));
  });

  app.post('/api/v5/objects/emails/:id/do/recordBounce', async (request, reply) => {
    const { unit } = request.marketing;
    const raw = pathParams(request, ['id']).id;
    const parsed = bounceSchema.safeParse(objectBody(request.body));
    if (!parsed.success) throw new MarketingError(62, `Invalid bounce: ${zodMessage(parsed.error)}`);
    await services.email.bounced(unit, /^\d{1,15}$/.test(raw) ? Number(raw) : 0, parsed.data);
    return reply.code(204).send();
  });
}
