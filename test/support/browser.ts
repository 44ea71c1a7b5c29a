import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`, done by .ci/run); never a downloaded browser. */
export const CHROMIUM = process.env.HANDOFF_CHROMIUM ?? '/usr/bin/chromium';

export function hasChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(`Browser tests skipped: no chromium at ${CHROMIUM} (.ci/run installs Debian's)`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  // No sandbox: CI runs as root in a container, where chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** A customer's web site on 127.0.0.1:0 serving the given pages (path → HTML). */
export async function startSite(
  pages: Record<string, string>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const body = pages[path];
    const type = path.endsWith('.js') ? 'application/javascript' : 'text/html';
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': `${type}; charset=utf-8` });
    response.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A page with the tracking snippet exactly as Account Engagement gives it, but pointing at the
 * engine: it sets piAId, piCId and piHostname and loads pd.js once the page has loaded.
 */
export function trackedPage(options: {
  title: string;
  piAId: number;
  piCId?: number;
  engineHost: string;
  body?: string;
}): string {
  return `<!doctype html><html><head><title>${options.title}</title>
<script type="text/javascript">
piAId = '${options.piAId}';
piCId = '${options.piCId ?? ''}';
piHostname = '${options.engineHost}';
(function() {
  function async_load(){
    var s = document.createElement('script'); s.type = 'text/javascript';
    s.src = document.location.protocol + '//' + piHostname + '/pd.js';
    var c = document.getElementsByTagName('script')[0]; c.parentNode.insertBefore(s, c);
  }
  if(window.attachEvent) { window.attachEvent('onload', async_load); }
  else { window.addEventListener('load', async_load, false); }
})();
</script></head><body><h1>${options.title}</h1>${options.body ?? ''}</body></html>`;
}
