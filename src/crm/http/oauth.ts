import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HandoffError } from '../../errors/handoff-error.js';
import { OAuthError } from '../auth/oauth-service.js';
import type { CrmServices } from '../crm-services.js';
import { bearerToken, textParams } from './request-context.js';
import { authorizeRoutes } from './oauth-authorize.js';
import { logServerError } from '../../http/server-basics.js';
import { requestErrorStatus } from '../../http/invalid-input.js';

function params(request: FastifyRequest): Record<string, string | undefined> {
  return textParams(request.query, request.body);
}

function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply.code(error.status).send({ error: error.error, error_description: error.description });
}

/** OAuth 2.0 endpoints and the identity URL; errors are `{error, error_description}` (RFC 6749). */
export function oauthRoutes(app: FastifyInstance, services: CrmServices): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof OAuthError) return sendOAuthError(reply, error);
    // The body parser's (malformed JSON): the request's fault, in OAuth's own terms.
    if (error instanceof HandoffError)
      return reply.code(400).send({ error: 'invalid_request', error_description: error.message });
    const status = requestErrorStatus(error);
    if (status !== undefined)
      return reply
        .code(status)
        .send({ error: 'invalid_request', error_description: (error as Error).message });
    logServerError(request, error, 'unexpected error in OAuth request');
    return reply.code(500).send({ error: 'server_error', error_description: 'unexpected error' });
  });

  authorizeRoutes(app, services);

  app.post('/services/oauth2/token', async (request, reply) => {
    const response = await services.oauth.token(params(request));
    return reply.header('Cache-Control', 'no-cache, no-store').send(response);
  });

  const revoke = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = params(request).token;
    if (!token || !(await services.oauth.revoke(token))) {
      throw new OAuthError('unsupported_token_type', 'this token type is not supported');
    }
    return reply.code(200).send();
  };
  app.post('/services/oauth2/revoke', revoke);
  app.get('/services/oauth2/revoke', revoke);

  /** The caller's user record, for the token in the header or the `oauth_token` parameter. */
  const caller = async (request: FastifyRequest) => {
    const token = bearerToken(request) ?? params(request).oauth_token;
    const session = token ? await services.oauth.verify(token) : null;
    if (!session) throw new OAuthError('invalid_token', 'Session expired or invalid', 401);
    const [user] = await services.records.retrieveMany('User', [session.userId]);
    if (!user) throw new OAuthError('invalid_token', 'Session expired or invalid', 401);
    return user;
  };

  const userinfo = async (request: FastifyRequest) => {
    const user = await caller(request);
    const userId = String(user.Id);
    return {
      sub: services.oauth.identityUrl(userId),
      user_id: userId,
      organization_id: services.orgId(),
      preferred_username: user.Username,
      nickname: user.Alias,
      name: user.Name,
      email: user.Email,
      email_verified: true,
      given_name: user.FirstName,
      family_name: user.LastName,
      zoneinfo: user.TimeZoneSidKey,
      active: user.IsActive,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
    };
  };
  app.get('/services/oauth2/userinfo', userinfo);
  app.post('/services/oauth2/userinfo', userinfo);

  app.get('/id/:orgId/:userId', async (request) => {
    const user = await caller(request);
    const userId = String(user.Id);
    const instance = services.urls.instanceUrl();
    const rest = `${instance}/services/data/v{version}/`;
    return {
      id: services.oauth.identityUrl(userId),
      asserted_user: true,
      user_id: userId,
      organization_id: services.orgId(),
      username: user.Username,
      nick_name: user.Alias,
      display_name: user.Name,
      email: user.Email,
      first_name: user.FirstName,
      last_name: user.LastName,
      timezone: user.TimeZoneSidKey,
      active: user.IsActive,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      last_modified_date: user.LastModifiedDate,
      is_app_installed: true,
      mobile_phone: null,
      mobile_phone_verified: false,
      // No profile photos are kept: the URLs are Salesforce's defaults' shape, under this CRM.
      photos: {
        picture: `${instance}/profilephoto/005/F`,
        thumbnail: `${instance}/profilephoto/005/T`,
      },
      status: { created_date: null, body: null },
      urls: {
        rest,
        sobjects: `${rest}sobjects/`,
        query: `${rest}query/`,
        recent: `${rest}recent/`,
        profile: `${instance}/${userId}`,
      },
    };
  });
}
