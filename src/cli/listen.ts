import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';

/** The URL a listening server is reached at (a wildcard address shown as 127.0.0.1). */
export function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${port}`;
}

/**
 * Listens, and says which server could not and how to choose another port when the port is
 * taken (a second `npm start`, say), instead of a bare EADDRINUSE stack.
 */
export async function listenOn(
  app: { listen(options: { host: string; port: number }): Promise<string> },
  server: string,
  host: string,
  port: number,
  flag: string,
): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    throw new ConfigError(
      `the ${server} cannot listen on ${host}:${port}: the port is taken (is Handoff already running?). ` +
        `Stop the other process, or pick another port with ${flag} <port> (0 for any free one).`,
    );
  }
}
