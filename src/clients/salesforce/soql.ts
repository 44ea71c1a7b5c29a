/**
 * SOQL literals. Values never reach a query unescaped: a string (a search, an email, an id read
 * from elsewhere) cannot end its quotes and add a clause of its own.
 */

/** A string as a SOQL literal: backslashes and quotes escaped. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Strings (ids) as a SOQL `IN (…)` list. */
export function soqlList(values: readonly string[]): string {
  return `(${values.map(soqlString).join(', ')})`;
}

/** An instant as a SOQL datetime literal, to the second (SOQL has no milliseconds). */
export function soqlDatetime(at: string | Date): string {
  const iso = typeof at === 'string' ? new Date(at).toISOString() : at.toISOString();
  return `${iso.slice(0, 19)}Z`;
}
