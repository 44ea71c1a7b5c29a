import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, loadSession, logIn, logOut, whenLoggedOut, type Session } from './api.js';
import { Errors } from './pages/Errors.js';
import { Explorer } from './pages/Explorer.js';
import { Ingest } from './pages/Ingest.js';
import { Mappings } from './pages/Mappings.js';
import { Overview } from './pages/Overview.js';
import { Records } from './pages/Records.js';
import { Verify } from './pages/Verify.js';

const PAGES = [
  { path: 'overview', title: 'Overview', page: Overview },
  { path: 'mappings', title: 'Mappings', page: Mappings },
  { path: 'errors', title: 'Sync errors', page: Errors },
  { path: 'verify', title: 'Verify', page: Verify },
  { path: 'explorer', title: 'Record explorer', page: Explorer },
  { path: 'ingest', title: 'Ingest', page: Ingest },
  { path: 'records', title: 'CRM & marketing', page: Records },
] as const;

/** The page and its argument from the address: `#/explorer/00Q…` is the explorer on a record. */
function route(): { path: string; arg: string } {
  const [path = 'overview', ...rest] = window.location.hash.replace(/^#\/?/, '').split('/');
  return { path: path || 'overview', arg: decodeURIComponent(rest.join('/')) };
}

export function navigate(path: string, arg = ''): void {
  window.location.hash = `#/${path}${arg ? `/${encodeURIComponent(arg)}` : ''}`;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [where, setWhere] = useState(route);
  const queries = useQueryClient();

  useEffect(() => {
    void loadSession().then(setSession);
    whenLoggedOut(() => void loadSession().then(setSession));
    const onHash = () => setWhere(route());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (!session) return <p className="loading">Loading…</p>;
  if (!session.user) return <Login onLogin={setSession} />;

  const current = PAGES.find((p) => p.path === where.path) ?? PAGES[0];
  const Page = current.page;
  return (
    <div className="shell">
      <header className="top">
        <a className="brand" href="#/overview">
          Handoff
        </a>
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p === current ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>{session.user}</span>
          <button
            type="button"
            onClick={() =>
              void logOut().then(() => {
                queries.clear();
                return loadSession().then(setSession);
              })
            }
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        <h1>{current.title}</h1>
        <Page arg={where.arg} />
      </main>
    </div>
  );
}

function Login({ onLogin }: { onLogin: (session: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    logIn(username, password)
      .then(onLogin)
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Log in to Handoff</h1>
        <p className="hint">Use the admin login from credentials.json (npm start prints it).</p>
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
