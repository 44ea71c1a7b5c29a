import type { FastifyRequest } from 'fastify';

/**
 * The address a request actually reached (the socket's own), as a URL's protocol and host —
 * for links a server hands out when no public URL is configured. Never the Host header, which
 * the caller writes and could point at any site.
 */
export function socketOrigin(request: FastifyRequest): { protocol: 'http' | 'https'; host: string } {
  const { localAddress, localPort } = request.socket;
  const address = localAddress?.includes(':') ? `[${localAddress}]` : (localAddress ?? '127.0.0.1');
  return { protocol: request.protocol === 'https' ? 'https' : 'http', host: `${address}:${localPort ?? 80}` };
}
