import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BusinessUnit } from '../domain/business-unit.js';
import {
  formHtml,
  HONEYPOT,
  landingPageHtml,
  page,
  thankYouHtml,
  type FormView,
} from '../forms/form-page.js';
import type { HostedForm, LandingPage } from '../forms/form-service.js';
import type { MarketingServices } from '../marketing-services.js';
import { requestVisitor } from './visitor-cookie.js';
import { pathParams } from './route-input.js';

const html = 'text/html; charset=utf-8';

function idOf(raw: string): number {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
}

/** Form bodies as flat strings (a repeated input joins with `;`, as multi-selects do). */
function inputOf(body: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries((body ?? {}) as Record<string, unknown>).map(([k, v]) => [
      k,
      Array.isArray(v) ? v.map(String).join(';') : String(v ?? ''),
    ]),
  );
}

/**
 * Hosted forms (`/form/<unit>/<form>`, also for an iframe) and landing pages
 * (`/lp/<unit>/<page>`, with the tracking script). Public, as they are. A submission with
 * errors shows the form again with each error beside its field and the values kept; a
 * success redirects to the form's success location or shows its thank-you content. A filled
 * honeypot looks like a success and records nothing.
 */
export function formRoutes(app: FastifyInstance, services: MarketingServices): void {
  const notFound = (reply: FastifyReply, what: string) =>
    reply
      .code(404)
      .type(html)
      .send(page({ title: 'Not found', body: `<main><p>No such ${what}.</p></main>` }));

  const view = (
    request: FastifyRequest,
    unit: BusinessUnit,
    form: HostedForm,
    action: string,
    state: Pick<FormView, 'values' | 'errors'> = { values: {}, errors: {} },
    fields: Record<string, unknown> = {},
  ): FormView => {
    const visitorId = requestVisitor(request, unit, services.tracking, fields);
    return {
      form,
      action,
      ...state,
      visitor: visitorId === null ? null : { id: visitorId, sign: services.tracking.sign(unit, visitorId) },
    };
  };

  const submitted = async (
    request: FastifyRequest,
    reply: FastifyReply,
    unit: BusinessUnit,
    form: HostedForm,
    render: (formView: FormView) => string,
    title: string,
    landingPage?: LandingPage,
  ) => {
    const input = inputOf(request.body);
    const done = () =>
      form.successLocation
        ? reply.redirect(form.successLocation, 303)
        : reply.type(html).send(page({ title, body: thankYouHtml(form) }));
    if ((input[HONEYPOT] ?? '') !== '') return done();
    const visitorId = requestVisitor(request, unit, services.tracking, input);
    const outcome = await services.forms.submit(unit, form, input, visitorId, landingPage);
    if (outcome.ok) return done();
    const again = view(
      request,
      unit,
      form,
      request.url,
      { values: outcome.values, errors: outcome.errors },
      input,
    );
    return reply
      .code(400)
      .type(html)
      .send(page({ title, body: render(again) }));
  };

  app.get('/form/:unitId/:formId', async (request, reply) => {
    const { unitId, formId } = pathParams(request, ['unitId', 'formId']);
    const unit = services.units.get(unitId);
    const form = unit && (await services.forms.form(unit, idOf(formId)));
    if (!unit || !form) return notFound(reply, 'form');
    const formView = view(request, unit, form, `/form/${unit.id}/${form.id}`);
    return reply.type(html).send(page({ title: form.name, body: `<main>${formHtml(formView)}</main>` }));
  });

  app.post('/form/:unitId/:formId', async (request, reply) => {
    const { unitId, formId } = pathParams(request, ['unitId', 'formId']);
    const unit = services.units.get(unitId);
    const form = unit && (await services.forms.form(unit, idOf(formId)));
    if (!unit || !form) return notFound(reply, 'form');
    return submitted(request, reply, unit, form, (v) => `<main>${formHtml(v)}</main>`, form.name);
  });

  app.get('/lp/:unitId/:pageId', async (request, reply) => {
    const { unitId, pageId } = pathParams(request, ['unitId', 'pageId']);
    const unit = services.units.get(unitId);
    const landing = unit && (await services.forms.landingPage(unit, idOf(pageId)));
    if (!unit || !landing) return notFound(reply, 'landing page');
    const formView = landing.form && view(request, unit, landing.form, `/lp/${unit.id}/${landing.id}`);
    return reply.type(html).send(
      page({
        title: landing.title,
        body: landingPageHtml(landing, formView),
        tracking: { unit, host: request.host, campaignId: landing.campaignId },
      }),
    );
  });

  app.post('/lp/:unitId/:pageId', async (request, reply) => {
    const { unitId, pageId } = pathParams(request, ['unitId', 'pageId']);
    const unit = services.units.get(unitId);
    const landing = unit && (await services.forms.landingPage(unit, idOf(pageId)));
    if (!unit || !landing?.form) return notFound(reply, 'landing page');
    return submitted(
      request,
      reply,
      unit,
      landing.form,
      (v) => landingPageHtml(landing, v),
      landing.title,
      landing,
    );
  });
}
