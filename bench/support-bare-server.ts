// A bare Fastify server, run in its own process by `bareServer()` in support-baseline.ts: the
// machine's own ceiling for answering a request, with nothing of Handoff behind the route. It
// parses what the real route parses (JSON and text/plain as Fastify does, anything else read
// whole) and answers each method and path prefix with the status, headers and body it was given
// in BARE_REPLIES; a request no reply matches gets 200 and `{}`.
import Fastify from 'fastify';

interface Reply {
  method: string;
  prefix: string;
  status: number;
  headers?: Record<string, string>;
  body: string;
}

const replies = JSON.parse(process.env.BARE_REPLIES ?? '[]') as Reply[];
const app = Fastify({ logger: false, bodyLimit: 200 * 1024 * 1024 });
// CSV uploads and multipart forms: read whole, as a route that does nothing with them would.
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.route({
  method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  url: '/*',
  handler: async (request, reply) => {
    const match = replies.find((r) => r.method === request.method && request.url.startsWith(r.prefix));
    if (!match) return reply.type('application/json').send('{}');
    return reply
      .code(match.status)
      .headers({ 'content-type': 'application/json', ...match.headers })
      .send(match.body);
  },
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(address);
