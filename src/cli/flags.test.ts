import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, helpText, FlagError, DEFAULT_RETENTION_MS } from './flags.js';

function run(args: string[]) {
  const p = parseArgs(args);
  assert.equal(p.kind, 'run');
  return (p as Extract<typeof p, { kind: 'run' }>).flags;
}

test('defaults are Prometheus defaults (config file is tsprom.yml)', () => {
  const f = run([]);
  assert.equal(f.configFile, 'tsprom.yml');
  assert.equal(f.listenAddress, '0.0.0.0:9090');
  assert.equal(f.storagePath, 'data/');
  assert.equal(f.queryTimeoutMs, 120_000);
  assert.equal(f.queryMaxSamples, 50_000_000);
  assert.equal(f.queryMaxConcurrency, 20);
  assert.equal(f.lookbackDeltaMs, 300_000);
  assert.equal(f.retentionTimeMs, DEFAULT_RETENTION_MS);
  assert.equal(f.enableLifecycle, false);
  assert.equal(f.values['storage.tsdb.retention.time'], '15d');
  assert.equal(f.values['web.enable-admin-api'], 'false');
});

test('both --flag=value and --flag value forms, booleans and repeated features', () => {
  const f = run([
    '--config.file', 'a.yml',
    '--web.listen-address=127.0.0.1:0',
    '--web.enable-lifecycle',
    '--no-web.enable-admin-api',
    '--web.enable-remote-write-receiver=true',
    '--query.timeout=30s',
    '--storage.tsdb.retention.size', '512MB',
    '--enable-feature=promql-experimental-functions,promql-per-step-stats',
    '--enable-feature', 'promql-duration-expr',
    '--log.level=debug',
  ]);
  assert.equal(f.configFile, 'a.yml');
  assert.equal(f.listenAddress, '127.0.0.1:0');
  assert.equal(f.enableLifecycle, true);
  assert.equal(f.enableAdminApi, false);
  assert.equal(f.enableRemoteWriteReceiver, true);
  assert.equal(f.queryTimeoutMs, 30_000);
  assert.equal(f.retentionSizeBytes, 512 * 2 ** 20);
  assert.equal(f.retentionTimeMs, 0, 'a size limit alone means no time limit');
  assert.deepEqual([...f.features].sort(), ['promql-duration-expr', 'promql-experimental-functions', 'promql-per-step-stats']);
  assert.equal(f.logLevel, 'debug');
  assert.equal(f.values['enable-feature'], 'promql-experimental-functions,promql-per-step-stats,promql-duration-expr');
});

test('bad flags are clear errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--nope'], /unknown long flag '--nope'/],
    [['--query.timeout=soon'], /invalid value "soon" for flag --query.timeout: not a valid duration string/],
    [['--query.timeout'], /expected argument for flag '--query.timeout'/],
    [['--log.level=loud'], /invalid value "loud" for flag --log.level: must be one of debug, info, warn, error/],
    [['--query.max-samples=-1'], /expected a non-negative integer/],
    [['--storage.tsdb.retention.size=12'], /invalid value "12" for flag --storage.tsdb.retention.size/],
    [['--web.enable-lifecycle=maybe'], /expected true or false/],
    [['serve'], /unexpected argument "serve"/],
    [['-x'], /unknown short flag '-x'/],
  ];
  for (const [args, re] of cases) assert.throws(() => parseArgs(args), (e: unknown) => e instanceof FlagError && re.test(e.message), args.join(' '));
});

test('WAL compression flags: snappy by default, off with --no-..., zstd refused', () => {
  const run = (args: string[]): ServerFlagsOf => {
    const r = parseArgs(args);
    assert.equal(r.kind, 'run');
    return (r as { flags: ServerFlagsOf }).flags;
  };
  type ServerFlagsOf = { walCompression: string; agentWalCompression: string };
  assert.equal(run([]).walCompression, 'snappy');
  assert.equal(run(['--no-storage.tsdb.wal-compression']).walCompression, 'none');
  assert.equal(run(['--storage.tsdb.wal-compression=false', '--storage.tsdb.wal-compression-type=zstd']).walCompression, 'none');
  assert.equal(run(['--agent', '--no-storage.agent.wal-compression']).agentWalCompression, 'none');
  assert.equal(run(['--agent']).agentWalCompression, 'snappy');
  assert.throws(() => parseArgs(['--storage.tsdb.wal-compression-type=zstd']), /--storage.tsdb.wal-compression-type=zstd is not supported/);
  assert.throws(() => parseArgs(['--agent', '--storage.agent.wal-compression-type=zstd']), /--storage.agent.wal-compression-type=zstd is not supported/);
  assert.throws(() => parseArgs(['--storage.tsdb.wal-compression-type=lz4']), /must be one of snappy, zstd/);
});

test('help and version', () => {
  assert.deepEqual(parseArgs(['--query.timeout=1m', '--help']), { kind: 'help' });
  assert.deepEqual(parseArgs(['-h']), { kind: 'help' });
  assert.deepEqual(parseArgs(['--version']), { kind: 'version' });
  const h = helpText('tsprom');
  assert.match(h, /--config.file="tsprom.yml"/);
  assert.match(h, /--\[no-\]web.enable-lifecycle/);
});
