import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOr400, sendError } from './console-error.js';

/** The console's one login: the admin of the data dir's credentials.json. */
export interface ConsoleLogin {
  username: string;
  password: string;
}

const loginSchema = z.object({ username: z.string().min(1), password: z.string().min(1) }).strict();

/** Failed logins an address may make in a window before it has to wait. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 15 * 60_000;

/** Compares secrets in constant time whatever their lengths (hashes are the same length). */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

declare module '@fastify/secure-session' {
  interface SessionData {
    user: string;
  }
}

/**
 * Login, logout and the session: `GET /console/api/session` says who is logged in and hands
 * the page its CSRF token, which every POST, PUT and DELETE then carries (`x-csrf-token`).
 */
export function sessionRoutes(app: FastifyInstance, login: ConsoleLogin): void {
  const failures = new Map<string, { count: number; since: number }>();

  app.get('/console/api/session', async (request, reply) => {
    const csrfToken = await reply.generateCsrf();
    return { user: request.session.get('user') ?? null, csrfToken };
  });

  app.post('/console/api/login', { preHandler: app.csrfProtection }, async (request, reply) => {
    const body = parseOr400(reply, loginSchema, request.body);
    if (!body) return reply;
    const now = Date.now();
    const seen = failures.get(request.ip);
    if (seen && now - seen.since < FAILURE_WINDOW_MS && seen.count >= MAX_FAILURES)
      return sendError(reply, 429, 'TOO_MANY_ATTEMPTS', 'Too many failed logins: try again in a few minutes');
    if (!same(body.username, login.username) || !same(body.password, login.password)) {
      const fresh = !seen || now - seen.since >= FAILURE_WINDOW_MS;
      failures.set(request.ip, { count: fresh ? 1 : seen.count + 1, since: fresh ? now : seen.since });
      return sendError(reply, 401, 'INVALID_LOGIN', 'The username or password is not right');
    }
    failures.delete(request.ip);
    // A new session on login: a token planted before it is not carried over.
    request.session.regenerate();
    request.session.set('user', login.username);
    return { user: login.username, csrfToken: await reply.generateCsrf() };
  });

  // (Logout, like every route past login, is checked for the CSRF token by the app's hook.)
  app.post('/console/api/logout', async (request) => {
    request.session.delete();
    return { user: null };
  });
}
