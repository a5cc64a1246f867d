// The app shell: navigation bar, routes, and the lazily loaded query page (the
// editor and charts are most of the bundle; other pages do not wait for them).
import { render, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { Link, navigate, useLocation, type Location } from './router.js';
import { AlertsPage } from './pages/alerts.js';
import { RulesPage } from './pages/rules.js';
import { TargetsPage } from './pages/targets.js';
import { ServiceDiscoveryPage } from './pages/service_discovery.js';
import { ConfigPage, FlagsPage, StatusPage, TsdbStatusPage } from './pages/status.js';
import { QueryLogPage } from './pages/query_log.js';
import { AgentPage } from './pages/agent.js';
import { useApi } from './common.js';
// uPlot's stylesheet sits here: esbuild does not load the CSS of lazily imported chunks.
import 'uplot/dist/uPlot.min.css';
import './style.css';

type QueryPageType = ComponentType<{ loc: Location }>;
let queryPage: QueryPageType | null = null;

function LazyQueryPage(props: { loc: Location }): JSX.Element {
  const [Page, setPage] = useState<QueryPageType | null>(() => queryPage);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (Page !== null) return;
    import('./pages/query.js').then(
      (m) => {
        queryPage = m.QueryPage;
        setPage(() => m.QueryPage);
      },
      (e: unknown) => setError(String(e)),
    );
  }, [Page]);
  if (error !== null) return <div class="alert error">Could not load the query page: {error}</div>;
  return Page === null ? <div class="muted">Loading…</div> : <Page loc={props.loc} />;
}

const PAGES: Record<string, { title: string; render: (loc: Location) => JSX.Element }> = {
  '/query': { title: 'Query', render: (loc) => <LazyQueryPage loc={loc} /> },
  '/alerts': { title: 'Alerts', render: () => <AlertsPage /> },
  '/rules': { title: 'Rules', render: () => <RulesPage /> },
  '/targets': { title: 'Targets', render: () => <TargetsPage /> },
  '/service-discovery': { title: 'Service discovery', render: () => <ServiceDiscoveryPage /> },
  '/status': { title: 'Status', render: () => <StatusPage /> },
  '/tsdb-status': { title: 'TSDB status', render: () => <TsdbStatusPage /> },
  '/flags': { title: 'Flags', render: () => <FlagsPage /> },
  '/config': { title: 'Configuration', render: () => <ConfigPage /> },
  '/query-log': { title: 'Query log', render: () => <QueryLogPage /> },
  '/agent': { title: 'Agent', render: () => <AgentPage /> },
};

const NAV: [string, string][] = [
  ['/query', 'Query'],
  ['/alerts', 'Alerts'],
  ['/rules', 'Rules'],
  ['/targets', 'Targets'],
  ['/service-discovery', 'Service discovery'],
  ['/query-log', 'Query log'],
  ['/status', 'Status'],
  ['/tsdb-status', 'TSDB'],
  ['/flags', 'Flags'],
  ['/config', 'Config'],
];

/** In agent mode (--agent) the pages that need queries, rules or the TSDB are left out. */
const AGENT_NAV: [string, string][] = [
  ['/agent', 'Agent'],
  ['/targets', 'Targets'],
  ['/service-discovery', 'Service discovery'],
  ['/status', 'Status'],
  ['/flags', 'Flags'],
  ['/config', 'Config'],
];

function App(): JSX.Element {
  const loc = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const page = PAGES[loc.path];
  const [flags] = useApi<Record<string, string>>('status/flags');
  const agent = flags.state === 'ok' && flags.res.data['agent'] === 'true';
  const home = agent ? '/agent' : '/query';
  const nav = agent ? AGENT_NAV : NAV;
  useEffect(() => {
    document.title = page !== undefined ? `${page.title} – tsprom` : 'tsprom';
    setMenuOpen(false);
  }, [loc.path]);
  useEffect(() => {
    // The server redirects / to /query (/agent for an agent); a client-side / (e.g. from history) does the same.
    if (loc.path === '/' && flags.state !== 'loading') navigate(home, true);
  }, [loc.path, home, flags.state]);
  return (
    <>
      <header class="topbar">
        <Link href={home} class="brand">
          tsprom
        </Link>
        <button class="menu-toggle" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
          ☰
        </button>
        <nav class={menuOpen ? 'open' : ''}>
          {nav.map(([href, label]) => (
            <Link key={href} href={href} class={loc.path === href ? 'active' : ''}>
              {label}
            </Link>
          ))}
        </nav>
      </header>
      <main>
        {page !== undefined ? (
          <>
            {loc.path !== '/query' && <h1>{page.title}</h1>}
            {page.render(loc)}
          </>
        ) : (
          <div class="alert error">No page at {loc.path}.</div>
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
