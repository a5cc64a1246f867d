// Prometheus's lifecycle endpoints: /-/healthy, /-/ready, and (with
// --web.enable-lifecycle) /-/reload and /-/quit.
import { text, type HttpResponse, type WebServer } from './server.js';

/** What the lifecycle endpoints drive; the server process (cli/) provides it. */
export interface LifecycleTarget {
  /** --web.enable-lifecycle: /-/reload and /-/quit answer 403 without it. */
  enabled: boolean;
  /** Reloads the config; rejects with the reason when the new one is refused. */
  reload(): Promise<void>;
  /** True once shutdown has begun. */
  stopping(): boolean;
  shutdown(): void;
}

export class LifecycleApi {
  constructor(private readonly target: LifecycleTarget) {}

  healthy(): HttpResponse {
    return text(200, 'Prometheus Server is Healthy.\n');
  }

  /** Mounted behind the readiness gate, so it answers 503 until the server is ready. */
  ready(): HttpResponse {
    return text(200, 'Prometheus Server is Ready.\n');
  }

  async reload(): Promise<HttpResponse> {
    if (!this.target.enabled) return disabled();
    try {
      await this.target.reload();
      return text(200, '');
    } catch (e) {
      return text(500, `failed to reload config: ${(e as Error).message}\n`);
    }
  }

  quit(): HttpResponse {
    if (!this.target.enabled) return disabled();
    const first = !this.target.stopping();
    // Answer first, then stop: the response must get out before the listener closes.
    if (first) setImmediate(() => this.target.shutdown());
    return text(200, first ? 'Requesting termination... Goodbye!' : 'Termination already in progress.');
  }

  mount(web: WebServer): void {
    web.route('GET', '/-/healthy', () => this.healthy());
    web.route('GET', '/-/ready', () => this.ready(), { needsReady: true });
    for (const m of ['POST', 'PUT']) {
      web.route(m, '/-/reload', () => this.reload());
      web.route(m, '/-/quit', () => this.quit());
    }
    const onlyPostPut = (): HttpResponse => text(405, 'Only POST or PUT requests allowed');
    web.route('GET', '/-/reload', onlyPostPut);
    web.route('GET', '/-/quit', onlyPostPut);
  }
}

function disabled(): HttpResponse {
  return text(403, 'Lifecycle API is not enabled.');
}
