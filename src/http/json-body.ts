import type { FastifyInstance } from 'fastify';

/**
 * Replaces Fastify's JSON parser with one that answers malformed JSON with the service's own
 * error (`invalid` builds it from the parser's message) and takes an empty body as no body, as
 * Salesforce and Account Engagement both do.
 */
export function jsonBodyParser(app: FastifyInstance, invalid: (detail: string) => Error): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(invalid((error as Error).message), undefined);
    }
  });
}
