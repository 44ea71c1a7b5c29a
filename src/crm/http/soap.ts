import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XMLParser } from 'fast-xml-parser';
import { HandoffError } from '../../errors/handoff-error.js';
import { OAuthError } from '../auth/oauth-service.js';
import type { CrmServices } from '../crm-services.js';
import type { CallContext } from '../domain/call-context.js';
import type { LeadConvertRequest } from '../domain/lead-conversion.js';
import type { MergeRequest } from '../merge-service.js';
import { parseApiVersion } from './request-context.js';
import { envelope, faultEnvelope, type Xml } from './soap-envelope.js';
import { logServerError } from '../../http/server-basics.js';
import { requestErrorStatus } from '../../http/invalid-input.js';
import { objectTabs } from './tabs-and-theme.js';

// Tag values stay strings: an id like 001… must never become a number.
const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });
/** A value for the builder: null becomes an `xsi:nil` element, as Salesforce writes it. */
function xmlValue(value: unknown): unknown {
  if (value === null || value === undefined) return { '@_xsi:nil': 'true' };
  if (Array.isArray(value)) return value.map(xmlValue);
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, xmlValue(v)]));
  return String(value);
}

function errorXml(error: HandoffError): Xml {
  return { statusCode: error.code, message: error.message, fields: error.fields };
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

/** The calls this endpoint answers besides login. */
const SOAP_OPERATIONS = new Set([
  'convertLead',
  'undelete',
  'getUserInfo',
  'merge',
  'logout',
  'describeTabs',
]);

function sendFault(reply: FastifyReply, code: string, message: string): FastifyReply {
  // A refused login is SOAP's 500 but no server failure: not logged as one.
  if (code !== 'UNKNOWN_EXCEPTION') reply.request.errorLogged = true;
  return reply
    .code(SERVER_STATUS_FAULTS.has(code) ? 500 : 400)
    .type('text/xml; charset=utf-8')
    .send(faultEnvelope(code, message));
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function leadConvert(raw: unknown): LeadConvertRequest {
  const x = (raw ?? {}) as Xml;
  return {
    leadId: text(x.leadId) ?? '',
    convertedStatus: text(x.convertedStatus),
    accountId: text(x.accountId),
    contactId: text(x.contactId),
    opportunityName: text(x.opportunityName),
    doNotCreateOpportunity: x.doNotCreateOpportunity === 'true',
    overwriteLeadSource: x.overwriteLeadSource === 'true',
    ownerId: text(x.ownerId),
  };
}

/**
 * The part of the SOAP (partner) API that has no REST twin and that jsforce's `conn.soap.*`
 * uses: `login`, `convertLead`, `merge`, `undelete`, `getUserInfo`, `logout` and `describeTabs`. Errors are SOAP faults.
 */
export function soapRoutes(app: FastifyInstance, services: CrmServices): void {
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

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const apiVersion = parseApiVersion(`v${(request.params as { version: string }).version}`);
    let document: Xml;
    try {
      document = parser.parse(typeof request.body === 'string' ? request.body : '') as Xml;
    } catch {
      throw new HandoffError('INVALID_INPUT', 'The request is not well-formed XML');
    }
    const soap = (document.Envelope ?? {}) as Xml;
    const body = (soap.Body ?? {}) as Xml;
    const [method] = Object.keys(body);
    const args = (method ? body[method] : {}) as Xml;
    // login is the one call made before there is a session.
    if (method === 'login') return login(reply, services, apiVersion, args);
    if (!method || !SOAP_OPERATIONS.has(method))
      return sendFault(
        reply,
        'INVALID_OPERATION',
        `The operation ${method ?? '(none)'} is not supported by this server`,
      );

    const sessionId = text(((soap.Header as Xml | undefined)?.SessionHeader as Xml | undefined)?.sessionId);
    const session = sessionId ? await services.oauth.verify(sessionId) : null;
    if (!session)
      return sendFault(
        reply,
        'INVALID_SESSION_ID',
        'Invalid Session ID found in SessionHeader: Illegal Session',
      );
    if (!services.usage.consume())
      return sendFault(reply, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    const header = (soap.Header ?? {}) as Xml;
    const ctx: CallContext = {
      userId: session.userId,
      autoAssign: undefined,
      origin: {
        api: 'soap',
        version: apiVersion,
        client: text((header.CallOptions as Xml | undefined)?.client) ?? undefined,
      },
    };

    let result: unknown;
    switch (method) {
      case 'convertLead': {
        const converted = await services.conversions.convert(
          ctx,
          asArray(args.leadConverts).map(leadConvert),
        );
        result = converted.map((r) => ({ ...r, errors: r.errors.map(errorXml) }));
        break;
      }
      case 'undelete': {
        const restored = await services.records.undelete(ctx, asArray(args.ids).map(String));
        result = restored.map((r) => ({ id: r.id, success: r.success, errors: r.errors.map(errorXml) }));
        break;
      }
      case 'logout':
        // Ends the session: its id (an access token) stops working at once.
        await services.oauth.revoke(sessionId ?? '');
        return reply.type('text/xml; charset=utf-8').send(envelope({ logoutResponse: '' }));
      case 'getUserInfo':
        result = await userInfo(services, session.userId);
        break;
      case 'describeTabs':
        // One app holding a tab per object (this CRM has no apps of its own).
        result = [
          {
            label: 'Sales',
            logoUrl: `${services.urls.instanceUrl()}/img/seasonLogos/logo.png`,
            namespace: '',
            selected: true,
            tabs: objectTabs(services),
          },
        ];
        break;
      case 'merge': {
        const merged = await services.merges.merge(
          ctx,
          asArray(args.request ?? args.mergeRequests).map(mergeRequest),
        );
        result = merged.map((r) => ({ ...r, errors: r.errors.map(errorXml) }));
        break;
      }
      default:
        return sendFault(
          reply,
          'INVALID_OPERATION',
          `The operation ${method ?? '(none)'} is not supported by this server`,
        );
    }
    return reply
      .type('text/xml; charset=utf-8')
      .send(envelope({ [`${method}Response`]: { result: xmlValue(result) } }));
  };
  // Calls go to the version's endpoint, or to the serverUrl login returned (which names the org).
  app.post('/services/Soap/u/:version', handler);
  app.post('/services/Soap/u/:version/:orgId', handler);
}

async function userInfo(services: CrmServices, userId: string): Promise<Xml> {
  const [user] = await services.records.retrieveMany('User', [userId]);
  return {
    userId,
    organizationId: services.orgId(),
    organizationName: services.config.orgName,
    userName: user?.Username,
    userFullName: user?.Name,
    userEmail: user?.Email,
    userTimeZone: user?.TimeZoneSidKey,
    userLanguage: 'en_US',
    userLocale: 'en_US',
    currencySymbol: '$',
    orgDefaultCurrencyIsoCode: 'USD',
    sessionSecondsValid: services.config.accessTokenTtlSeconds,
    accessibilityMode: false,
    userType: 'Standard',
  };
}

/** SOAP `login`: a session id and the server URL to use it at, or an INVALID_LOGIN fault. */
async function login(reply: FastifyReply, services: CrmServices, apiVersion: string, args: Xml) {
  const username = text(args.username);
  const password = text(args.password);
  let session: { accessToken: string; userId: string };
  try {
    if (!username || !password) throw new Error('missing credentials');
    session = await services.oauth.soapLogin(username, password);
  } catch (error) {
    // The lockout's message says until when; any other failure says no more than Salesforce does.
    const locked = error instanceof OAuthError && /try again after/.test(error.description);
    return sendFault(
      reply,
      'INVALID_LOGIN',
      locked ? error.description : 'Invalid username, password, security token; or user locked out.',
    );
  }
  const instance = services.urls.instanceUrl();
  const result = {
    metadataServerUrl: `${instance}/services/Soap/m/${apiVersion}/${services.orgId()}`,
    passwordExpired: false,
    sandbox: false,
    serverUrl: `${instance}/services/Soap/u/${apiVersion}/${services.orgId()}`,
    sessionId: session.accessToken,
    userId: session.userId,
    userInfo: await userInfo(services, session.userId),
  };
  return reply
    .type('text/xml; charset=utf-8')
    .send(envelope({ loginResponse: { result: xmlValue(result) } }));
}

function mergeRequest(raw: unknown): MergeRequest {
  const x = (raw ?? {}) as Xml;
  const master = (x.masterRecord ?? {}) as Xml;
  // Field values arrive as text (or xsi:nil, parsed as empty): empty means null, as in an update.
  const masterRecord: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(master)) {
    if (name === 'fieldsToNull') continue;
    masterRecord[name] = typeof value === 'string' ? (value === '' ? null : value) : null;
  }
  return { masterRecord, recordToMergeIds: asArray(x.recordToMergeIds).map(String) };
}
