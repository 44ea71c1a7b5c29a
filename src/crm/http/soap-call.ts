import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HandoffError } from '../../errors/handoff-error.js';
import { requestErrorStatus } from '../../http/invalid-input.js';
import { logServerError } from '../../http/server-basics.js';
import type { CrmServices } from '../crm-services.js';
import { parseSalesforceXml } from '../domain/salesforce-xml.js';
import { faultEnvelope, type Xml } from './soap-envelope.js';

/**
 * What the SOAP endpoints share (the partner API's `/services/Soap/u` and the Metadata API's
 * `/services/Soap/m`): reading a call from its envelope, the session in its header, and faults.
 */

/** A value for the builder: null becomes an `xsi:nil` element, as Salesforce writes it. */
export function xmlValue(value: unknown): unknown {
  if (value === null || value === undefined) return { '@_xsi:nil': 'true' };
  if (Array.isArray(value)) return value.map(xmlValue);
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, xmlValue(v)]));
  return String(value);
}

/**
 * Faults Salesforce answers with HTTP 500, as SOAP 1.1 has every fault: a refused login or
 * session, the daily limit, and its own failures. A request that is not a SOAP call at all (not
 * XML, an operation it does not have, a content type it does not take) is the caller's
 * mistake and gets 400, with the fault in the body all the same.
 */
const SERVER_STATUS_FAULTS = new Set([
  'INVALID_LOGIN',
  'INVALID_SESSION_ID',
  'REQUEST_LIMIT_EXCEEDED',
  'UNKNOWN_EXCEPTION',
]);

export function sendFault(reply: FastifyReply, code: string, message: string): FastifyReply {
  // A refused login is SOAP's 500 but no server failure: not logged as one.
  if (code !== 'UNKNOWN_EXCEPTION') reply.request.errorLogged = true;
  return reply
    .code(SERVER_STATUS_FAULTS.has(code) ? 500 : 400)
    .type('text/xml; charset=utf-8')
    .send(faultEnvelope(code, message));
}

export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

export function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** XML bodies as text, and every error as a SOAP fault, for the routes of `app`'s scope. */
export function acceptSoapCalls(app: FastifyInstance): void {
  app.addContentTypeParser(
    ['text/xml', 'application/soap+xml'],
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HandoffError) return sendFault(reply, error.code, error.message);
    if (requestErrorStatus(error) !== undefined)
      return sendFault(reply, 'INVALID_INPUT', (error as Error).message);
    logServerError(request, error, 'unexpected error in SOAP request');
    return sendFault(reply, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred.');
  });
}

export interface SoapCall {
  /** The body's one element: `login`, `deploy` … */
  method: string | undefined;
  args: Xml;
  header: Xml;
  sessionId: string | null;
}

export function readSoapCall(request: FastifyRequest): SoapCall {
  let document: Xml;
  try {
    document = parseSalesforceXml(typeof request.body === 'string' ? request.body : '');
  } catch {
    throw new HandoffError('INVALID_INPUT', 'The request is not well-formed XML');
  }
  const soap = (document.Envelope ?? {}) as Xml;
  const body = (soap.Body ?? {}) as Xml;
  const [method] = Object.keys(body);
  const header = (soap.Header ?? {}) as Xml;
  return {
    method,
    args: (method ? body[method] : {}) as Xml,
    header,
    sessionId: text((header.SessionHeader as Xml | undefined)?.sessionId),
  };
}

/**
 * The caller of a call made with a session: its user, once the session is valid and the day's
 * allowance has room. Otherwise the fault is sent and null answered.
 */
export async function soapCaller(
  services: CrmServices,
  call: SoapCall,
  reply: FastifyReply,
): Promise<{ userId: string } | null> {
  const session = call.sessionId ? await services.oauth.verify(call.sessionId) : null;
  if (!session) {
    sendFault(reply, 'INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session');
    return null;
  }
  if (!services.usage.consume()) {
    sendFault(reply, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    return null;
  }
  return session;
}
