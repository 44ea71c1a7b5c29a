import type { FieldDef, ObjectDef } from '../schema/field-def.js';

/**
 * Compound address fields (`BillingAddress`, `MailingAddress`, a Lead's `Address`): not stored,
 * a view of their parts. SOQL may select one, and it reads as one object of its parts (keys in
 * Salesforce's order), or null when every part is empty.
 */

/** A compound's parts by the key each has in the compound value, in the order Salesforce gives. */
const PARTS: ReadonlyArray<readonly [key: string, suffix: string]> = [
  ['city', 'City'],
  ['country', 'Country'],
  ['countryCode', 'CountryCode'],
  ['geocodeAccuracy', 'GeocodeAccuracy'],
  ['latitude', 'Latitude'],
  ['longitude', 'Longitude'],
  ['postalCode', 'PostalCode'],
  ['state', 'State'],
  ['stateCode', 'StateCode'],
  ['street', 'Street'],
];

export interface CompoundPart {
  key: string;
  field: FieldDef;
}

/**
 * The parts of the object's compound address of that name (`BillingAddress` is Billing…, a
 * Lead's `Address` is Street, City …), or null when it has none by that name.
 */
export function addressParts(
  def: ObjectDef,
  name: string,
  field: (def: ObjectDef, name: string) => FieldDef | undefined,
): { name: string; parts: CompoundPart[] } | null {
  if (!/address$/i.test(name)) return null;
  const prefix = name.slice(0, -'address'.length);
  const street = field(def, `${prefix}Street`);
  const city = field(def, `${prefix}City`);
  if (!street || !city) return null;
  const parts = PARTS.flatMap(([key, suffix]) => {
    const f = field(def, `${prefix}${suffix}`);
    return f ? [{ key, field: f }] : [];
  });
  // The canonical spelling: the street field's prefix, as the schema writes it.
  return { name: `${street.name.slice(0, -'Street'.length)}Address`, parts };
}

/** A compound value from its parts' values: null when every part is empty. */
export function compoundValue(values: Record<string, unknown>): Record<string, unknown> | null {
  return Object.values(values).every((v) => v === null || v === undefined || v === '') ? null : values;
}
