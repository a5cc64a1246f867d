// The ingest and queries benches' workload: a fleet of node_exporter-like hosts, 1,015 series
// each (so 10,150 and 101,500 series are 10 and 100 hosts), 8 to 11 labels per series with
// realistic names and values, counters, gauges, a classic histogram (`_bucket`/`_sum`/`_count`)
// and an info metric (`node_uname_info`) for `group_left`. Values are a function of the
// series and the round, so any round's body can be built without keeping the earlier ones.

export const SERIES_PER_HOST = 1015;
export const STEP_MS = 15_000;

const enum Kind {
  Counter = 0,
  Gauge = 1,
  /** Cumulative bucket (or _count) of a histogram: `inc` is the share of observations at or below its bound. */
  Bucket = 2,
  /** A histogram's _sum: `inc` is the mean observation. */
  HistSum = 3,
  Info = 4,
}

export interface Workload {
  /** Label pairs of series i, sorted by name (as senders send them). */
  readonly labels: ReadonlyArray<ReadonlyArray<readonly [string, string]>>;
  readonly kind: Uint8Array;
  readonly base: Float64Array;
  readonly inc: Float64Array;
}

const HOST_LABELS = (h: number): Array<[string, string]> => {
  const dc = `dc${(h % 3) + 1}`;
  return [
    ['datacenter', dc],
    ['env', h % 10 === 9 ? 'staging' : 'prod'],
    ['instance', `node-${String(h).padStart(3, '0')}.${dc}.example.net:9100`],
    ['job', 'node'],
    ['rack', `r${String(h % 16).padStart(2, '0')}`],
    ['region', ['eu-west-1', 'us-east-1', 'ap-south-1'][h % 3]!],
    ['team', ['infra', 'storage', 'payments', 'search'][h % 4]!],
  ];
};

interface Family {
  name: string;
  kind: Kind;
  /** Extra label sets; one series per set. */
  sets: Array<Array<[string, string]>>;
}

const CPU_MODES = ['guest', 'idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
const MOUNTS: Array<[string, string, string]> = [
  ['/dev/nvme0n1p2', '/', 'ext4'],
  ['/dev/nvme0n1p1', '/boot/efi', 'vfat'],
  ['/dev/nvme1n1', '/var/lib/data', 'xfs'],
  ['/dev/nvme2n1', '/var/lib/logs', 'xfs'],
  ['tmpfs', '/run', 'tmpfs'],
  ['tmpfs', '/dev/shm', 'tmpfs'],
  ['tmpfs', '/run/lock', 'tmpfs'],
  ['tmpfs', '/run/user/1000', 'tmpfs'],
];
const NET_DEVICES = ['bond0', 'docker0', 'eth0', 'eth1', 'lo', 'veth3f1a2b7', 'veth9c0d4e1'];
const DISKS = ['dm-0', 'dm-1', 'nvme0n1', 'nvme1n1', 'nvme2n1'];
const HANDLERS = ['/api/v1/query', '/api/v1/query_range', '/api/v1/series', '/api/v1/write', '/metrics'];
export const BUCKET_BOUNDS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const MEMORY = [
  'Active', 'Active_anon', 'Active_file', 'AnonHugePages', 'AnonPages', 'Bounce', 'Buffers', 'Cached', 'CommitLimit',
  'Committed_AS', 'DirectMap1G', 'DirectMap2M', 'DirectMap4k', 'Dirty', 'HardwareCorrupted', 'HugePages_Free',
  'HugePages_Rsvd', 'HugePages_Surp', 'HugePages_Total', 'Hugepagesize', 'Inactive', 'Inactive_anon', 'Inactive_file',
  'KernelStack', 'Mapped', 'MemAvailable', 'MemFree', 'MemTotal', 'Mlocked', 'NFS_Unstable', 'PageTables', 'SReclaimable',
  'SUnreclaim', 'Shmem', 'Slab', 'SwapCached', 'SwapFree', 'SwapTotal', 'Unevictable', 'VmallocChunk', 'VmallocTotal',
  'VmallocUsed', 'Writeback', 'WritebackTmp',
];

function families(): Family[] {
  const cpus = Array.from({ length: 8 }, (_, i) => String(i));
  const f: Family[] = [];
  f.push({ name: 'node_cpu_seconds_total', kind: Kind.Counter, sets: cpus.flatMap((c) => CPU_MODES.map((m): Array<[string, string]> => [['cpu', c], ['mode', m]])) });
  for (const m of MEMORY) f.push({ name: `node_memory_${m}_bytes`, kind: Kind.Gauge, sets: [[]] });
  const mountSets = MOUNTS.map(([d, m, t]): Array<[string, string]> => [['device', d], ['fstype', t], ['mountpoint', m]]);
  for (const n of ['avail_bytes', 'free_bytes', 'size_bytes', 'files', 'files_free', 'readonly', 'device_error']) f.push({ name: `node_filesystem_${n}`, kind: Kind.Gauge, sets: mountSets });
  const netSets = NET_DEVICES.map((d): Array<[string, string]> => [['device', d]]);
  for (const dir of ['receive', 'transmit']) for (const n of ['bytes', 'packets', 'errs', 'drop']) f.push({ name: `node_network_${dir}_${n}_total`, kind: Kind.Counter, sets: netSets });
  const diskSets = DISKS.map((d): Array<[string, string]> => [['device', d]]);
  for (const n of ['reads_completed_total', 'writes_completed_total', 'read_bytes_total', 'written_bytes_total', 'io_time_seconds_total', 'read_time_seconds_total', 'write_time_seconds_total']) {
    f.push({ name: `node_disk_${n}`, kind: Kind.Counter, sets: diskSets });
  }
  f.push({ name: 'node_disk_io_now', kind: Kind.Gauge, sets: diskSets });
  for (const n of ['node_load1', 'node_load5', 'node_load15', 'node_boot_time_seconds', 'node_procs_running', 'node_procs_blocked', 'node_entropy_available_bits', 'node_filefd_allocated', 'node_filefd_maximum']) {
    f.push({ name: n, kind: Kind.Gauge, sets: [[]] });
  }
  for (const n of ['node_context_switches_total', 'node_forks_total', 'node_intr_total']) f.push({ name: n, kind: Kind.Counter, sets: [[]] });
  const histSets = HANDLERS.map((h): Array<[string, string]> => [['handler', h], ['method', 'GET']]);
  f.push({ name: 'http_request_duration_seconds_bucket', kind: Kind.Bucket, sets: histSets.flatMap((s) => BUCKET_BOUNDS.map((le): Array<[string, string]> => [...s, ['le', le]])) });
  f.push({ name: 'http_request_duration_seconds_count', kind: Kind.Bucket, sets: histSets });
  f.push({ name: 'http_request_duration_seconds_sum', kind: Kind.HistSum, sets: histSets });
  return f;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Series of `count` (hosts of SERIES_PER_HOST; the last one cut short when count is not a multiple). */
export function buildWorkload(count: number): Workload {
  const fams = families();
  const labels: Array<Array<readonly [string, string]>> = [];
  const kind = new Uint8Array(count);
  const base = new Float64Array(count);
  const inc = new Float64Array(count);
  const rand = rng(17);
  for (let h = 0; labels.length < count; h++) {
    const host = HOST_LABELS(h);
    const inHost: Array<{ name: string; kind: Kind; extra: Array<[string, string]>; share?: number }> = [];
    for (const f of fams) {
      for (const s of f.sets) {
        const le = s.find(([n]) => n === 'le')?.[1];
        // Buckets: the share of observations at or below the bound, 1 at +Inf (and for _count).
        const share = le === undefined || le === '+Inf' ? 1 : 1 - Math.exp(-Number(le) * 8);
        inHost.push({ name: f.name, kind: f.kind, extra: s, share });
      }
    }
    inHost.push({ name: 'node_uname_info', kind: Kind.Info, extra: [['machine', 'x86_64'], ['nodename', `node-${String(h).padStart(3, '0')}`], ['release', `6.1.0-${10 + (h % 7)}-amd64`], ['sysname', 'Linux']] });
    // node_exporter's many interrupt series fill the host up to SERIES_PER_HOST.
    for (let i = 0; inHost.length < SERIES_PER_HOST; i++) {
      inHost.push({ name: 'node_interrupts_total', kind: Kind.Counter, extra: [['cpu', String(i % 8)], ['devices', `PCI-MSI-${(i >> 3) + 1}-edge`], ['type', String(24 + (i >> 3))]] });
    }
    // One observation rate for a host's histograms, so each one's buckets stay cumulative.
    const histRate = 5 + rand() * 50;
    for (const s of inHost) {
      if (labels.length >= count) break;
      const i = labels.length;
      const all: Array<readonly [string, string]> = [['__name__', s.name], ...host, ...s.extra];
      all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      labels.push(all);
      kind[i] = s.kind;
      switch (s.kind) {
        case Kind.Counter:
          base[i] = Math.floor(rand() * 1e7);
          inc[i] = rand() < 0.1 ? 0 : Math.floor(1 + rand() * 5000);
          break;
        case Kind.Gauge:
          base[i] = Math.floor(rand() * 1e9);
          inc[i] = rand() * 1e6;
          break;
        case Kind.Bucket:
          base[i] = histRate;
          inc[i] = s.share ?? 1;
          break;
        case Kind.HistSum:
          base[i] = histRate;
          inc[i] = 0.04;
          break;
        case Kind.Info:
          base[i] = 1;
          break;
      }
    }
  }
  return { labels, kind, base, inc };
}

/** Series i's value in round r (rounds count from 0). */
export function valueAt(w: Workload, i: number, r: number): number {
  const b = w.base[i]!;
  const c = w.inc[i]!;
  switch (w.kind[i]) {
    case Kind.Counter:
      return b + c * r;
    case Kind.Gauge:
      // A wobble around the base, never negative.
      return Math.round(b + c * Math.sin((r + i) * 0.3));
    case Kind.Bucket:
      // Observations so far (b per round) times the bucket's share: cumulative and monotonic in le.
      return Math.floor(b * 15 * (r + 1) * c);
    case Kind.HistSum:
      return b * 15 * (r + 1) * c;
    default:
      return 1;
  }
}
