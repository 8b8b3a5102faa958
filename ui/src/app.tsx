import { useEffect, useState, type FormEvent } from 'react';
import { api, getToken, onTokenChange, setToken, signOutReason, type Caller } from './api.ts';
import { ApprovalsPage } from './pages/approvals-page.tsx';
import { CostsPage } from './pages/costs-page.tsx';
import { RunPage } from './pages/run-page.tsx';
import { RunsPage } from './pages/runs-page.tsx';
import { WorkersPage } from './pages/workers-page.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { Link, parseRoute, useLocation } from './router.tsx';
import { applyTheme, nextTheme, storedTheme, type Theme } from './theme.ts';

/** The shell: who is signed in, the navigation, and the page of the current address. */
export function App() {
  const location = useLocation();
  const [token, setTokenState] = useState(getToken);
  const [caller, setCaller] = useState<Caller | undefined>();
  useEffect(() => onTokenChange(() => setTokenState(getToken())), []);
  const pending = usePendingApprovals(token);
  useEffect(() => {
    setCaller(undefined);
    if (!token) return;
    const controller = new AbortController();
    api.me(controller.signal).then(setCaller, () => undefined);
    return () => controller.abort();
  }, [token]);

  if (!token) return <SignIn />;
  const route = parseRoute(location.path);
  return (
    <div className="app">
      <header className="top">
        <Link to="/" className="brand">
          Baton
        </Link>
        <nav>
          <Link to="/" className={route.page === 'runs' || route.page === 'run' ? 'active' : ''}>
            Runs
          </Link>
          <Link to="/approvals" className={route.page === 'approvals' ? 'active' : ''}>
            Approvals{' '}
            {pending > 0 && (
              <span className="nav-count" data-testid="pending-approvals">
                {pending}
                <span className="visually-hidden"> pending</span>
              </span>
            )}
          </Link>
          <Link to="/costs" className={route.page === 'costs' ? 'active' : ''}>
            Costs
          </Link>
          <Link to="/workers" className={route.page === 'workers' ? 'active' : ''}>
            Workers
          </Link>
          <Link to="/audit" className={route.page === 'audit' ? 'active' : ''}>
            Audit
          </Link>
        </nav>
        <span className="grow" />
        {caller && (
          <span className="muted" data-testid="caller">
            {caller.principal} · {caller.tenant}
          </span>
        )}
        <ThemeToggle />
        <button type="button" className="quiet" onClick={() => setToken(null)}>
          Sign out
        </button>
      </header>
      <main id="main">
        {route.page === 'runs' && <RunsPage search={location.search} />}
        {route.page === 'run' && (
          <RunPage
            key={route.runId}
            runId={route.runId}
            search={location.search}
            {...(caller ? { caller: caller.principal } : {})}
          />
        )}
        {route.page === 'approvals' && <ApprovalsPage />}
        {route.page === 'costs' && <CostsPage />}
        {route.page === 'workers' && <WorkersPage />}
        {route.page === 'audit' && <AuditPage search={location.search} />}
        {route.page === 'missing' && <p className="muted">No page at {route.path}.</p>}
      </main>
    </div>
  );
}

/** How many approvals wait for a decision in the caller's tenant; asked again every few seconds. */
function usePendingApprovals(token: string | null): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (!token) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      api.approvals('status=pending', controller.signal).then(
        (value) => setCount(value.approvals.length),
        () => undefined,
      );
      timer = setTimeout(ask, 4000);
    };
    ask();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [token]);
  return count;
}

const THEME_NAMES: Record<Theme, string> = {
  system: 'System theme',
  light: 'Light theme',
  dark: 'Dark theme',
};

/** Cycles system → light → dark; the choice is kept for the next visit. */
function ThemeToggle() {
  const [theme, setTheme] = useState(storedTheme);
  const choose = () => {
    const next = nextTheme(theme);
    applyTheme(next);
    setTheme(next);
  };
  return (
    <button
      type="button"
      className="quiet"
      onClick={choose}
      data-testid="theme-toggle"
      title={`${THEME_NAMES[theme]}; switch to ${THEME_NAMES[nextTheme(theme)].toLowerCase()}`}
    >
      {THEME_NAMES[theme]}
    </button>
  );
}

function SignIn() {
  const [value, setValue] = useState('');
  const reason = signOutReason();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) setToken(value.trim());
  };
  return (
    <form className="sign-in" onSubmit={submit}>
      <h1>Baton</h1>
      <p className="muted">
        Paste an API token (or a JWT). `baton server` prints one when none is configured.
      </p>
      {reason && (
        <p className="error" role="alert" data-testid="sign-in-error">
          {reason}
        </p>
      )}
      <input
        type="password"
        value={value}
        onChange={(event) => setValue(event.target.value)}
        aria-label="API token"
        autoFocus
      />
      <button type="submit" className="primary">
        Sign in
      </button>
    </form>
  );
}
