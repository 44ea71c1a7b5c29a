import type { ConnectorStatus } from '../../../connector/connector-status.js';
import type { SyncSettings } from '../../../connector/connector-config.js';
import type {
  MinuteMetrics,
  SettingsPreview,
  SyncError,
  VerifyRun,
  VerifyRunSummary,
} from '../../../connector/connector-services.js';
import type { PairView, SearchHit } from '../../explorer.js';
import type { Job } from '../../jobs.js';
import type { ConsoleErrorBody } from '../../http/console-error.js';

export type {
  ConnectorStatus,
  MinuteMetrics,
  SettingsPreview,
  SyncSettings,
  SyncError,
  PairView,
  SearchHit,
  Job,
  VerifyRun,
  VerifyRunSummary,
};

/** The CSRF token of this session: every change the page asks for carries it. */
let csrfToken = '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** Called when the session is gone (expired, logged out in another tab): back to the login. */
let onLoggedOut: () => void = () => undefined;
export function whenLoggedOut(handler: () => void): void {
  onLoggedOut = handler;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const response = await fetch(`/console/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = (parsed as ConsoleErrorBody | null)?.error;
    if (response.status === 401 && error?.code === 'NOT_LOGGED_IN') onLoggedOut();
    throw new ApiError(
      response.status,
      error?.code ?? 'HTTP_ERROR',
      error?.message ?? response.statusText,
      error?.issues,
    );
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);

export interface Session {
  user: string | null;
  csrfToken: string;
}

export async function loadSession(): Promise<Session> {
  const session = await get<Session>('session');
  csrfToken = session.csrfToken;
  return session;
}

export async function logIn(username: string, password: string): Promise<Session> {
  const session = await post<Session>('login', { username, password });
  csrfToken = session.csrfToken;
  return session;
}

export async function logOut(): Promise<void> {
  await post('logout');
  await loadSession();
}
