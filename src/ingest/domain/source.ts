import { z } from 'zod';

/**
 * A source's Pardot destination settings, as Segment's destination has them (API-FACTS.md),
 * plus the audiences that map to lists.
 */
export const destinationSettingsSchema = z
  .object({
    /** 3: one prospect per email (match and create by email); 4: several, matched by id, fid or lookup field. */
    apiVersion: z.union([z.literal(3), z.literal(4)]).default(4),
    /** A prospect field (custom field id or name) that identifies the person (v4). Never id or fid. */
    lookupField: z
      .string()
      .min(1)
      .refine((v) => !['id', 'fid'].includes(v.toLowerCase()), 'id and fid cannot be the lookup field')
      .nullish(),
    /** Use the message's userId as the lookup value instead of the trait of the lookup field's name. */
    useUserIdAsLookup: z.boolean().default(false),
    /**
     * piAId: the tracking account id. Set, analytics.js loads the engine's tracking script in
     * the browser (device mode), as Segment's Pardot destination loads Pardot's.
     */
    accountId: z.string().nullish(),
    /**
     * Where browsers reach the engine's tracker (`pd.js`, `/analytics`): `host` or `host:port`
     * (piHostname). Unset: the host of the marketing engine the ingest delivers to.
     */
    trackerHost: z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'a host name, optionally with :port, like go.example.com')
      .nullish(),
    /** piCId: the campaign new prospects are created in. */
    campaignId: z.number().int().positive().nullish(),
    /** The business unit prospects live in (18 chars, 0Uv…); the ingest's default unit when unset. */
    businessUnitId: z
      .string()
      .regex(/^0Uv[A-Za-z0-9]{15}$/, 'must be an 18-character business unit id starting 0Uv')
      .nullish(),
    /** Audience trait (snake_cased audience name) → list id. */
    audiences: z.record(z.string(), z.number().int().positive()).default({}),
    /**
     * The page origins browsers may send from (`https://www.example.com`); unset, any origin
     * (never with credentials: the write key travels in the body and header, not in cookies).
     */
    allowedOrigins: z
      .array(
        z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin: scheme and host, like https://www.example.com'),
      )
      .nullish(),
  })
  .strict();

/** Whether a browser page of this origin may send with the source's write key. */
export function originAllowed(
  settings: Pick<DestinationSettings, 'allowedOrigins'>,
  origin: string,
): boolean {
  const allowed = settings.allowedOrigins;
  return !allowed || allowed.length === 0 || allowed.some((o) => o.toLowerCase() === origin.toLowerCase());
}

export type DestinationSettings = z.infer<typeof destinationSettingsSchema>;

/**
 * Whether the source names the business unit's tracking account (piAId): then its page views
 * are the tracker's (visitor page views and visits), in the browser (device mode) and from
 * servers alike, instead of external activities.
 */
export function tracksVisitors(settings: Pick<DestinationSettings, 'accountId'>): boolean {
  return /^\d+$/.test(settings.accountId ?? '');
}

export interface Source {
  id: string;
  name: string;
  settings: DestinationSettings;
  createdAt: string;
}
