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
  createdAt: string;
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
