/**
 * A stored success or error location as a redirect target: only an absolute http(s) URL. One
 * saved before locations were checked (`javascript:…`, a relative path) sends nowhere.
 */
export function redirectLocation(value: string | null): string | null {
  if (!value || !URL.canParse(value)) return null;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:' ? value : null;
}
