import { sameSecret } from '../../same-secret.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LoginThrottle, lockedMessage } from '../../http/login-throttle.js';
import type { ConsoleSessions } from '../console-sessions.js';
import { parseOr400, sendError } from './console-error.js';

/** The console's one login: the admin of the data dir's credentials.json. */
export interface ConsoleLogin {
  username: string;
  password: string;
}

const loginSchema = z.object({ username: z.string().min(1), password: z.string().min(1) }).strict();

declare module '@fastify/secure-session' {
  interface SessionData {
    user: string;
    /** The server-side session id (ConsoleSessions): logout ends it for every copy of the cookie. */
    sid: string;
  }
}

/**
 * Who is logged in, and login: `GET /session` says who is logged in and hands the page its
 * CSRF token, which every POST, PUT and DELETE then carries (`x-csrf-token`). These two are
 * the only routes open without a session; register them in the API's prefix.
 */
export function sessionRoutes(
  app: FastifyInstance,
  options: { login: ConsoleLogin; sessions: ConsoleSessions; throttle?: LoginThrottle },
): void {
  const { login, sessions } = options;
  const throttle = options.throttle ?? new LoginThrottle();

  app.get('/session', async (request, reply) => {
    const csrfToken = await reply.generateCsrf();
    const live = sessions.isLive(request.session.get('sid'));
    return { user: live ? (request.session.get('user') ?? null) : null, csrfToken };
  });

  app.post('/login', { preHandler: app.csrfProtection }, async (request, reply) => {
    const body = parseOr400(reply, loginSchema, request.body);
    if (!body) return reply;
    // Counted per username: another process on the admin's own address cannot lock them out
    // for long (the lock lasts one window and says when it ends), and an attacker gains
    // nothing by changing address.
    const gate = throttle.check(body.username);
    if (!gate.allowed) {
      void reply.header('retry-after', Math.max(1, Math.ceil((gate.retryAt.getTime() - Date.now()) / 1000)));
      return sendError(reply, 429, 'TOO_MANY_ATTEMPTS', lockedMessage(gate.retryAt));
    }
    if (!sameSecret(body.username, login.username) || !sameSecret(body.password, login.password)) {
      throttle.failed(body.username);
      return sendError(reply, 401, 'INVALID_LOGIN', 'The username or password is not right');
    }
    throttle.succeeded(body.username);
    // A new session on login: a token planted before it is not carried over.
    sessions.close(request.session.get('sid'));
    request.session.regenerate();
    request.session.set('user', login.username);
    request.session.set('sid', sessions.open());
    return { user: login.username, csrfToken: await reply.generateCsrf() };
  });
}

/** Logout ends the session on the server too: a copy of the cookie taken before is refused after. */
export function logoutRoute(app: FastifyInstance, sessions: ConsoleSessions): void {
  app.post('/logout', async (request) => {
    sessions.close(request.session.get('sid'));
    request.session.delete();
    return { user: null };
  });
}
