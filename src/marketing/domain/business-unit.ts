/** A business unit: an isolated tenant with its own prospects, users, settings and limits. */
export interface BusinessUnit {
  /** 18 characters, `0Uv` prefix, as Account Engagement's. */
  id: string;
  name: string;
  active: boolean;
  /** On: v4 behaviour (several prospects may share an email). Off: v3 (email is unique). */
  allowMultiplePerEmail: boolean;
  dailyApiLimit: number;
  timeZone: string;
  /** The tracker's account number (`piAId` in the tracking snippet), from 1001. */
  trackingId: number;
  /** On: nothing of a visitor is tracked until it consents (`pi_opt_in` true). */
  requireTrackingConsent: boolean;
  /**
   * The sites the tracker runs on (Account Engagement's tracker domains): origins
   * (`https://www.example.com`) or host names (`example.com`, its subdomains too). Only their
   * pages may read the tracker's answers with the visitor's cookies.
   */
  trackerDomains: string[];
  createdAt: string;
}

/** What an operator may change of a unit (the rest is fixed at creation). */
export type UnitSettings = Pick<
  BusinessUnit,
  | 'active'
  | 'allowMultiplePerEmail'
  | 'dailyApiLimit'
  | 'timeZone'
  | 'requireTrackingConsent'
  | 'trackerDomains'
>;

/** Whether a page's origin is one of the unit's tracker domains. */
export function isTrackerOrigin(unit: Pick<BusinessUnit, 'trackerDomains'>, origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const { protocol, hostname } = new URL(origin);
  if (protocol !== 'http:' && protocol !== 'https:') return false;
  return unit.trackerDomains.some((domain) => {
    if (domain.includes('://'))
      return URL.canParse(domain) && new URL(domain).origin === new URL(origin).origin;
    const host = domain.toLowerCase();
    return hostname === host || hostname.endsWith(`.${host}`);
  });
}

/** The tracking cookie of a unit's visitors: `visitor_id{piAId − 1000}`, as Account Engagement's. */
export function visitorCookieName(unit: Pick<BusinessUnit, 'trackingId'>): string {
  return `visitor_id${unit.trackingId - 1000}`;
}

/** The consent cookie: `pi_opt_in{piAId − 1000}`, `true` or `false`. */
export function consentCookieName(unit: Pick<BusinessUnit, 'trackingId'>): string {
  return `pi_opt_in${unit.trackingId - 1000}`;
}

export const BUSINESS_UNIT_PREFIX = '0Uv';

export function isBusinessUnitId(value: string): boolean {
  return /^0Uv[0-9A-Za-z]{15}$/.test(value);
}

/** At most this many requests of one unit are served at once; more get code 66. */
export const MAX_CONCURRENT_REQUESTS = 5;

export interface CustomField {
  id: number;
  name: string;
  /** The API name without the suffix (`Favorite_Color`); prospects carry it as `Favorite_Color__c`. */
  fieldId: string;
  type: 'Text' | 'Number' | 'Date' | 'Checkbox' | 'Dropdown' | 'Radio Button' | 'Multi-Select' | 'Textarea';
  createdAt: string;
  updatedAt: string;
}

export const CUSTOM_FIELD_TYPES: readonly CustomField['type'][] = [
  'Text',
  'Number',
  'Date',
  'Checkbox',
  'Dropdown',
  'Radio Button',
  'Multi-Select',
  'Textarea',
];

/** The prospect field name of a custom field: `Favorite_Color` → `Favorite_Color__c`. */
export function customFieldKey(fieldId: string): string {
  return `${fieldId}__c`;
}
