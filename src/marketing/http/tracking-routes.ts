import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isTrackerOrigin, type BusinessUnit } from '../domain/business-unit.js';
import { isValidEmail } from '../domain/prospect-fields.js';
import type { MarketingServices } from '../marketing-services.js';
import { PD_JS } from '../tracking/pd-script.js';
import { mayTrack, requestConsent, requestVisitor, setVisitorCookies } from './visitor-cookie.js';

const analyticsQuery = z.object({
  account_id: z.coerce.number().int(),
  url: z.string().min(1).max(8192),
  title: z.string().max(8192).optional(),
  referrer: z.string().max(8192).optional(),
  campaign_id: z.coerce.number().int().positive().optional(),
  visitor_id: z.string().optional(),
  visitor_id_sign: z.string().optional(),
  pi_opt_in: z.enum(['true', 'false']).optional(),
  pi_email: z.string().max(255).optional(),
});

/**
 * The tracker: `GET /pd.js` and `GET /analytics`, which pd.js calls once per page. Public, as
 * a tracker is; answers in JSON to the page's origin (with its cookies). A hit is answered only
 * once it is durable.
 */
export function trackingRoutes(app: FastifyInstance, services: MarketingServices): void {
  app.get('/pd.js', async (_request, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(PD_JS),
  );

  app.get('/analytics', async (request, reply) => {
    const origin = request.headers.origin;
    // Any page may send a hit; only the unit's own sites may read the answer with the
    // visitor's cookies (credentials), so no other site learns a visitor's id.
    const allow = (unit?: BusinessUnit) => {
      if (!origin) return;
      void reply.header('vary', 'Origin');
      if (unit && isTrackerOrigin(unit, origin)) {
        void reply.header('access-control-allow-origin', origin);
        void reply.header('access-control-allow-credentials', 'true');
      } else void reply.header('access-control-allow-origin', '*');
    };
    reply.header('cache-control', 'no-store');
    const parsed = analyticsQuery.safeParse(request.query);
    const unit = parsed.success ? services.units.byTrackingId(parsed.data.account_id) : undefined;
    allow(unit);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return reply
        .code(400)
        .send({ code: 62, message: `Invalid value for ${issue.path.join('.')}: ${issue.message}` });
    }
    const query = parsed.data;
    if (!unit || !unit.active) return reply.code(404).send({ code: 404, message: 'No such tracker account' });
    if (!mayTrack(unit, requestConsent(request, unit, query.pi_opt_in))) return { tracked: false };
    const { tracking } = services;
    const hit = {
      unit,
      visitorId: requestVisitor(request, unit, tracking),
      campaignId: query.campaign_id ?? null,
      ipAddress: request.ip,
    };
    let result;
    if (query.pi_email !== undefined) {
      if (!isValidEmail(query.pi_email))
        return reply.code(400).send({ code: 4, message: 'Invalid prospect email address' });
      result = await tracking.identify(hit, query.pi_email);
    } else {
      result = await tracking.pageView({ ...hit, url: query.url, title: query.title ?? null });
    }
    const sign = tracking.sign(unit, result.visitorId);
    setVisitorCookies(reply, unit, result.visitorId, sign);
    return { tracked: true, visitorId: result.visitorId, sign };
  });
}
