import type { FastifyRequest } from 'fastify';
import { socketOrigin } from '../../http/socket-origin.js';

/**
 * The engine's own base URL for links it hands out (page URLs, tracked email links): the
 * configured public URL, else the address the request actually reached — never the Host
 * header, which the caller writes and could point at any site.
 */
export function publicBase(publicUrl: string | null, request: FastifyRequest): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const { protocol, host } = socketOrigin(request);
  return `${protocol}://${host}`;
}
