/** Which API a write came through, for a change event's `changeOrigin`. */
export interface ChangeOrigin {
  api: 'rest' | 'soap' | 'bulkapi';
  /** The API version of the call, `60.0`. */
  version: string;
  /** The `client=` of the writer's `Sforce-Call-Options` header: how a connector spots its own writes. */
  client?: string;
}

/** Who is calling and how, from the request's token and headers. */
export interface CallContext {
  userId: string;
  /** `Sforce-Auto-Assign`: undefined when the header is absent (Salesforce then means TRUE). */
  autoAssign: boolean | undefined;
  /** Absent for the server's own writes (sample data, housekeeping). */
  origin?: ChangeOrigin;
}

/** `com/salesforce/api/rest/60.0;client=handoff-connector`, as Salesforce writes it in change events. */
export function changeOriginText(origin: ChangeOrigin | undefined): string {
  if (!origin) return '';
  const base = `com/salesforce/api/${origin.api}/${origin.version}`;
  return origin.client ? `${base};client=${origin.client}` : base;
}

/**
 * The `client` option of `Sforce-Call-Options: client=SampleToken/100, defaultNamespace=battle`.
 * Options are comma-separated `name=value` pairs; names are case-insensitive.
 */
export function callOptionsClient(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() === 'client') {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
