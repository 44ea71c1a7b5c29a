/**
 * The web-server flow's pages walked with fetch, as a browser walks them: the authorize URL, the
 * login page (`/?ec=302&startURL=…`), the approval page, and Allow or Deny. Answers the last
 * answer — a redirect to the app's callback (its Location), or the page that stopped the walk.
 */
export interface PagesWalk {
  /** The last answer's status and Location (null when it is a page, not a redirect). */
  status: number;
  location: URL | null;
  body: string;
  /** The login session cookie the walk holds (`sid=…`), if it logged in. */
  cookie: string | null;
}

function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return (match?.[1] ?? '').replace(/&amp;/g, '&');
}

export async function walkAuthorizationPages(
  crmUrl: string,
  authorizeUrl: string,
  user: { username: string; password: string },
  options: { decision?: 'allow' | 'deny'; cookie?: string | null } = {},
): Promise<PagesWalk> {
  let cookie = options.cookie ?? null;
  const headers = () => (cookie ? { cookie } : undefined);
  const answer = async (r: Response): Promise<PagesWalk> => ({
    status: r.status,
    location: r.headers.get('location') ? new URL(r.headers.get('location')!, crmUrl) : null,
    body: await r.text(),
    cookie,
  });
  let r = await fetch(authorizeUrl, { redirect: 'manual', headers: headers() });
  let step = await answer(r);
  // Login, when asked to.
  if (step.location && step.location.origin === crmUrl && step.location.pathname === '/') {
    r = await fetch(`${crmUrl}/`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        username: user.username,
        pw: user.password,
        startURL: step.location.searchParams.get('startURL') ?? '',
        Login: 'Log In',
      }),
    });
    const set = r.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    step = await answer(r);
  }
  // Approval, when shown.
  if (step.location && step.location.origin === crmUrl && step.location.pathname.startsWith('/setup/')) {
    r = await fetch(step.location, { redirect: 'manual', headers: headers() });
    step = await answer(r);
    if (r.status !== 200) return step;
    const decision: Record<string, string> =
      options.decision === 'deny' ? { oadeny: 'Deny' } : { oaapprove: 'Allow' };
    r = await fetch(`${crmUrl}/setup/secur/RemoteAccessAuthorizationPage.apexp`, {
      method: 'POST',
      redirect: 'manual',
      headers: headers(),
      body: new URLSearchParams({
        source: hidden(step.body, 'source'),
        _CONFIRMATIONTOKEN: hidden(step.body, '_CONFIRMATIONTOKEN'),
        ...decision,
      }),
    });
    step = await answer(r);
  }
  return step;
}
