import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HandoffError } from '../../errors/handoff-error.js';
import { OAuthError } from '../auth/oauth-service.js';
import type { CrmServices } from '../crm-services.js';
import type { CallContext } from '../domain/call-context.js';
import type { LeadConvertRequest } from '../domain/lead-conversion.js';
import type { MergeRequest } from '../merge-service.js';
import { parseApiVersion } from './request-context.js';
import {
  acceptSoapCalls,
  asArray,
  readSoapCall,
  sendFault,
  soapCaller,
  text,
  xmlValue,
} from './soap-call.js';
import { envelope, type Xml } from './soap-envelope.js';
import { objectTabs } from './tabs-and-theme.js';

function errorXml(error: HandoffError): Xml {
  return { statusCode: error.code, message: error.message, fields: error.fields };
}

/** The calls this endpoint answers besides login. */
const SOAP_OPERATIONS = new Set([
  'convertLead',
  'undelete',
  'getUserInfo',
  'merge',
  'logout',
  'describeTabs',
]);

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
  acceptSoapCalls(app);

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const apiVersion = parseApiVersion(`v${(request.params as { version: string }).version}`);
    const call = readSoapCall(request);
    const { method, args, header, sessionId } = call;
    // login is the one call made before there is a session.
    if (method === 'login') return login(reply, services, apiVersion, args);
    if (!method || !SOAP_OPERATIONS.has(method))
      return sendFault(
        reply,
        'INVALID_OPERATION',
        `The operation ${method ?? '(none)'} is not supported by this server`,
      );
    const session = await soapCaller(services, call, reply);
    if (!session) return reply;
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
