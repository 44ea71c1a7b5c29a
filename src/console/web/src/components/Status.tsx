import type { ReactNode } from 'react';
import { ApiError } from '../api.js';

/** A query's loading and error states, the same on every page. */
export function Loading({ error, children }: { error: unknown; children?: ReactNode }) {
  if (error)
    return (
      <p role="alert" className="error">
        {error instanceof ApiError ? error.message : String(error)}
      </p>
    );
  return <p className="loading">{children ?? 'Loading…'}</p>;
}

export function Notice({ error, ok }: { error?: unknown; ok?: string | null }) {
  if (error)
    return (
      <p role="alert" className="error">
        {error instanceof ApiError ? error.message : String(error)}
      </p>
    );
  if (ok)
    return (
      <p role="status" className="ok">
        {ok}
      </p>
    );
  return null;
}
