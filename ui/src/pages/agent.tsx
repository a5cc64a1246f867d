// /agent: what a tsprom started with --agent does, shown instead of the query page.
import type { JSX } from 'preact';
import { Link } from '../router.js';

export function AgentPage(): JSX.Element {
  return (
    <div>
      <p>
        This tsprom runs in <strong>agent mode</strong> (<code>--agent</code>): it scrapes its targets and forwards every sample to the
        configured <code>remote_write</code> endpoints, keeping them only in its write-ahead log until they are sent.
      </p>
      <p>
        It answers no queries and evaluates no rules or alerts: query the system the samples are sent to. The pages that still apply are
        below.
      </p>
      <ul>
        <li>
          <Link href="/targets">Targets</Link> and <Link href="/service-discovery">Service discovery</Link>
        </li>
        <li>
          <Link href="/status">Status</Link>, <Link href="/flags">Flags</Link> and <Link href="/config">Configuration</Link>
        </li>
      </ul>
    </div>
  );
}
