import type { FastifyReply, FastifyRequest } from 'fastify';
import { consentCookieName, visitorCookieName, type BusinessUnit } from '../domain/business-unit.js';
import type { TrackingService } from '../tracking/tracking-service.js';
import { queryParams } from './route-input.js';

const TEN_YEARS_S = 3650 * 86400;

/**
 * The visitor a request comes from: named by `visitor_id` and `visitor_id_sign` (query or form
 * body, as pd.js and hosted forms send them) or by the engine's own cookies, and only when the
 * signature holds — a page cannot borrow another visitor, and with it a prospect.
 */
export function requestVisitor(
  request: FastifyRequest,
  unit: BusinessUnit,
  tracking: TrackingService,
  fields: Record<string, unknown> = {},
): number | null {
  const cookieName = visitorCookieName(unit);
  const pick = (name: string, cookie: string) => {
    const given = fields[name] ?? queryParams(request)[name];
    return typeof given === 'string' && given !== '' ? given : request.cookies[cookie];
  };
  return tracking.verified(
    unit,
    pick('visitor_id', cookieName),
    pick('visitor_id_sign', `${cookieName}-hash`),
  );
}

/** The visitor's consent as its cookie (or pd.js) says: `true`, `false`, or not given. */
export function requestConsent(
  request: FastifyRequest,
  unit: BusinessUnit,
  given?: string,
): string | undefined {
  return given ?? request.cookies[consentCookieName(unit)];
}

/** Whether the unit may track this visitor: never once opted out; with consent where required. */
export function mayTrack(unit: BusinessUnit, consent: string | undefined): boolean {
  if (consent === 'false') return false;
  return !unit.requireTrackingConsent || consent === 'true';
}

/** Keeps the visitor in the engine's own cookies (for its hosted forms and landing pages). */
export function setVisitorCookies(
  reply: FastifyReply,
  unit: BusinessUnit,
  visitorId: number,
  sign: string,
): void {
  const name = visitorCookieName(unit);
  const options = { path: '/', maxAge: TEN_YEARS_S, sameSite: 'lax' as const, httpOnly: false };
  reply.setCookie(name, String(visitorId), options);
  reply.setCookie(`${name}-hash`, sign, options);
}
