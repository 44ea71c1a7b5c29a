/** What a request carries between Handoff's hooks and handlers. */
declare module 'fastify' {
  interface FastifyRequest {
    /** Set once an error handler has logged this request's failure (so it is logged once). */
    errorLogged?: boolean;
  }
}

export {};
