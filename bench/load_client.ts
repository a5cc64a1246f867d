// The benches' remote-write and query clients: prebuilt bodies posted over keep-alive
// connections, a fixed number of clients each sending its own bodies in order (one request
// in flight per client), a paced single sender that records every request's latency, and
// timed PromQL queries as Grafana sends them (POST form).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

/** POSTs a body; resolves with the response's status and body once it has been read. */
export function post(agent: http.Agent, url: URL, headers: Readonly<Record<string, string>>, body: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface SendResult {
  /** From the first send to the last 2xx. */
  wallS: number;
  requests: number;
  /** CPU this process used meanwhile (the client's own cost). */
  clientCpuS: number;
}

/** Each element of `perClient` is one client's bodies in send order; all clients run at once. Any non-2xx throws. */
export async function sendConcurrently(base: string, headers: Readonly<Record<string, string>>, perClient: ReadonlyArray<readonly Buffer[]>): Promise<SendResult> {
  const url = new URL('/api/v1/write', base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: perClient.length });
  let requests = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await Promise.all(
      perClient.map(async (bodies) => {
        for (const b of bodies) {
          const r = await post(agent, url, headers, b);
          if (r.status < 200 || r.status > 299) throw new BenchFailure(`remote write answered ${r.status}: ${r.body.slice(0, 500)}`);
          requests++;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wallS, requests, clientCpuS: (cpu.user + cpu.system) / 1e6 };
}

export interface Paced {
  /** Start time (performance.now()) and latency in ms of every request. */
  readonly starts: number[];
  readonly latencies: number[];
  /** Stops after the request in flight; resolves when it is done, rejects if a request failed. */
  stop(): Promise<void>;
  /** True once every body was sent (the sender then stops by itself). */
  exhausted(): boolean;
}

/** Sends `bodies` one at a time, starting one every `intervalMs` (at once if the previous one took longer). */
export function pacedSender(base: string, headers: Readonly<Record<string, string>>, bodies: readonly Buffer[], intervalMs: number): Paced {
  const url = new URL('/api/v1/write', base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const starts: number[] = [];
  const latencies: number[] = [];
  let stopping = false;
  let failure: unknown;
  let i = 0;
  const done = (async () => {
    let next = performance.now();
    while (!stopping && i < bodies.length) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopping) break;
      const t = performance.now();
      const r = await post(agent, url, headers, bodies[i++]!);
      if (r.status < 200 || r.status > 299) throw new BenchFailure(`remote write answered ${r.status}: ${r.body.slice(0, 500)}`);
      starts.push(t);
      latencies.push(performance.now() - t);
      next = Math.max(next + intervalMs, performance.now());
    }
  })()
    .catch((e: unknown) => {
      failure = e;
    })
    .finally(() => agent.destroy());
  return {
    starts,
    latencies,
    exhausted: () => i >= bodies.length,
    stop: async () => {
      stopping = true;
      await done;
      if (failure !== undefined) throw failure;
    },
  };
}

/** The q-quantile (0..1) of values, nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface QueryParams {
  query: string;
  /** Instant query at `time`, or range query start..end by step (seconds). */
  time?: number;
  start?: number;
  end?: number;
  step?: number;
}

export interface QueryResult {
  ms: number;
  status: number;
  /** Series (or 1 for a scalar/string) in the result; -1 when it failed. */
  size: number;
  error?: string;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** One query through /api/v1/query or /api/v1/query_range, timed until its whole JSON was read. */
export async function runQuery(agent: http.Agent, base: string, p: QueryParams): Promise<QueryResult> {
  const range = p.step !== undefined;
  const form = new URLSearchParams({ query: p.query });
  if (range) {
    form.set('start', String(p.start));
    form.set('end', String(p.end));
    form.set('step', String(p.step));
  } else if (p.time !== undefined) {
    form.set('time', String(p.time));
  }
  const t0 = performance.now();
  const r = await post(agent, new URL(range ? '/api/v1/query_range' : '/api/v1/query', base), FORM, form.toString());
  const ms = performance.now() - t0;
  const body = JSON.parse(r.body) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
  if (r.status !== 200 || body.data === undefined) return { ms, status: r.status, size: -1, error: body.error ?? r.body.slice(0, 200) };
  const res = body.data.result;
  return { ms, status: r.status, size: Array.isArray(res) && body.data.resultType !== 'scalar' && body.data.resultType !== 'string' ? res.length : 1 };
}
