import { XMLBuilder } from 'fast-xml-parser';
import type { FastifyRequest } from 'fastify';
import type { WireError } from '../../http/server-basics.js';

const xml = new XMLBuilder({ ignoreAttributes: false, format: false });

/** The legacy API's paths: `/api/{object}/version/{3|4}/…` (every `/api/` path but v5's). */
const LEGACY_PATH = /^\/api\/(?!v5(?:\/|$))/i;

export function isLegacyPath(url: string): boolean {
  return LEGACY_PATH.test(url);
}

/**
 * A failure met before any route (a URL or headers the engine cannot read): v3/v4 paths get the
 * `stat="fail"` envelope (XML, or JSON when the query asks for it), everything else v5 JSON.
 */
export function renderMarketingError(status: number, message: string, request?: FastifyRequest): WireError {
  const url = request?.url ?? '';
  if (!LEGACY_PATH.test(url)) {
    return {
      contentType: 'application/json',
      body: JSON.stringify({ code: status === 404 ? 404 : 62, message }),
    };
  }
  if (/[?&]format=json(?:&|$)/.test(url)) {
    return {
      contentType: 'application/json',
      body: JSON.stringify({ '@attributes': { stat: 'fail', version: 1, err_code: 62 }, err: message }),
    };
  }
  const document = xml.build({
    rsp: { '@_stat': 'fail', '@_version': '1.0', err: { '@_code': '62', '#text': message } },
  }) as string;
  return {
    contentType: 'text/xml; charset=utf-8',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${document}`,
  };
}
