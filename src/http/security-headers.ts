import type { FastifyInstance } from 'fastify';

/**
 * The console: its own scripts and styles only (recharts sets inline styles), never framed, no
 * plugins, and forms that post only back to it. It frames only the pages it names (the demo's
 * landing page on the marketing engine).
 */
const CONSOLE_POLICY = (frames: readonly string[]) =>
  [...CONSOLE_DIRECTIVES, `frame-src ${frames.length > 0 ? frames.join(' ') : "'none'"}`].join('; ');

const CONSOLE_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
];

/**
 * Hosted forms and landing pages: embedded in customers' sites by design, so no frame-ancestors
 * limit; their inline style and tracking snippet are the engine's own (values escaped).
 */
const HOSTED_PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

/** Headers every answer of the console carries; `frameOrigins` are the origins it may frame. */
export function consoleSecurityHeaders(app: FastifyInstance, frameOrigins: readonly string[] = []): void {
  const policy = CONSOLE_POLICY(frameOrigins);
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('content-security-policy', policy);
    return payload;
  });
}

/** Headers of the marketing engine's answers: HTML pages get the hosted-page policy. */
export function hostedPageSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      void reply.header('content-security-policy', HOSTED_PAGE_POLICY);
      void reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    }
    return payload;
  });
}
