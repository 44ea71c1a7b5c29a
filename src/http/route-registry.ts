import type { FastifyInstance } from 'fastify';

/** A route as registered: its method and its URL pattern (`/services/data/:version/sobjects/:type`). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered on the app, in every scope, as registered (not a hand-kept list). */
    registeredRoutes: RegisteredRoute[];
  }
}

/**
 * Records the app's routes as they are registered (call it first, before any route). Tests of
 * guards and of bad input walk this list, so a new route is covered the day it is added.
 */
export function recordRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
}
