// The package as users get it: `npm pack` makes a tarball holding the built
// server and UI, the default config, README, LICENSE and docs and nothing
// else; `npm i -g --prefix <tmp>` installs it with its dependencies from the
// registry; `<tmp>/bin/tsprom` runs from an empty folder (writing the default
// tsprom.yml there), answers /-/ready and queries, prints its version, and
// stops on SIGTERM sent to its PID.
//
// Two shortcuts keep this under a few minutes, each saying why:
// - `npm test` has just built dist/, so the tarball is packed with
//   --ignore-scripts and the build stamp written directly; the test checks that
//   prepack would run the same build.
// - re2 has no prebuilt binary reachable here, and compiling it takes 3-8
//   minutes on two shared cores. Its installer takes a mirror of prebuilt
//   binaries (RE2_DOWNLOAD_MIRROR, documented in docs/operations.md for hosts
//   without GitHub access); the mirror here is a folder holding the binary this
//   checkout built, under the name the installer asks for when the registry's
//   re2 is the checkout's version. Everything else comes from the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { until } from './alertmanager_process.js';

const run = promisify(execFile);
const ROOT = process.cwd();
const NPM_TIMEOUT_MS = 120_000;
/** 15-30 s with re2's binary from the mirror; compiling re2 (a newer release than the checkout's) takes 3-8 min. */
const INSTALL_TIMEOUT_MS = 600_000;

interface PackInfo {
  filename: string;
  files: Array<{ path: string }>;
}

test('npm pack, a global install into a temp prefix, and the installed tsprom runs from an empty folder', { timeout: 720_000 }, async () => {
  assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')) && existsSync(join(ROOT, 'dist/ui/manifest.json')), 'build first: npm run build');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
  assert.match(pkg.scripts['prepack'] ?? '', /npm run build/, 'prepack builds the server and the UI');

  const tmp = mkdtempSync(join(tmpdir(), 'tsprom-pkg-'));
  // Node's own folder first on PATH: the installed bin's `#!/usr/bin/env node` and npm's scripts use it.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
  let server: ReturnType<typeof spawn> | undefined;
  try {
    await run(process.execPath, [join(ROOT, 'scripts/build_info.mjs')], { cwd: ROOT });
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, env, timeout: NPM_TIMEOUT_MS, maxBuffer: 64 << 20 });
    const [info] = JSON.parse(packed.stdout) as PackInfo[];
    assert.ok(info !== undefined);
    const paths = info.files.map((f) => f.path);
    for (const want of ['dist/src/cli/main.js', 'dist/src/querylog/worker.js', 'dist/ui/manifest.json', 'dist/build_info.json', 'tsprom.yml', 'README.md', 'LICENSE', 'docs/operations.md', 'examples/tsprom.service', 'package.json']) {
      assert.ok(paths.includes(want), `${want} is in the tarball`);
    }
    const stray = paths.filter((p) => /\.test\.js$|\.map$|\.ts$/.test(p) || /^(src|test|bench|ui|scripts|node_modules|dist\/test|dist\/bench)\//.test(p));
    assert.deepEqual(stray, [], 'no sources, tests, benches or maps');
    // The build does not clean dist/: output of a source since moved or deleted would ship too.
    const stale = paths.filter((p) => p.startsWith('dist/src/') && !existsSync(join(ROOT, p.slice('dist/'.length).replace(/\.js$/, '.ts'))));
    assert.deepEqual(stale, [], 'compiled files without their source: clean dist/ and build again');

    // The re2 mirror: <version>/<platform>-<arch>-<ABI>.gz, the name its installer tries (the GitHub
    // path part skipped). Should the registry hand out a newer re2 than this checkout's, the name
    // misses and re2 compiles, slowly but correctly.
    const re2Version = (JSON.parse(readFileSync(join(ROOT, 'node_modules/re2/package.json'), 'utf8')) as { version: string }).version;
    const mirror = join(tmp, 're2-mirror');
    mkdirSync(join(mirror, re2Version), { recursive: true });
    writeFileSync(join(mirror, re2Version, `${process.platform}-${process.arch}-${process.versions.modules}.gz`), gzipSync(readFileSync(join(ROOT, 'node_modules/re2/build/Release/re2.node'))));
    const prefix = join(tmp, 'prefix');
    await run('npm', ['install', '--global', '--prefix', prefix, '--allow-scripts=re2', '--no-audit', '--no-fund', join(tmp, info.filename)], {
      cwd: tmp,
      env: { ...env, RE2_DOWNLOAD_MIRROR: mirror, RE2_DOWNLOAD_SKIP_PATH: '1' },
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 64 << 20,
    });
    const bin = join(prefix, 'bin', 'tsprom');
    assert.ok(existsSync(bin), 'npm linked the tsprom binary');

    const stamp = JSON.parse(readFileSync(join(ROOT, 'dist/build_info.json'), 'utf8')) as { revision: string; branch: string; buildUser: string; buildDate: string };
    const version = await run(bin, ['--version'], { env, cwd: tmp });
    assert.equal(
      version.stdout,
      [
        `tsprom, version ${pkg.version} (branch: ${stamp.branch}, revision: ${stamp.revision})`,
        `  build user:       ${stamp.buildUser}`,
        `  build date:       ${stamp.buildDate}`,
        `  node version:     ${process.version}`,
        `  platform:         ${process.platform}/${process.arch}`,
        '  tags:             unknown',
        '',
      ].join('\n'),
    );

    const work = join(tmp, 'empty');
    mkdirSync(work);
    server = spawn(bin, ['--web.listen-address=127.0.0.1:0'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
    const port = await until(async () => {
      assert.equal(server!.exitCode, null, `tsprom exited:\n${log}`);
      const m = /msg="Listening on" address=[^\s]*:(\d+)/.exec(log);
      return m === null ? null : Number(m[1]);
    }, 'tsprom listening');
    const base = `http://127.0.0.1:${port}`;
    await until(async () => ((await fetch(`${base}/-/ready`)).ok ? true : null), 'tsprom ready');

    assert.match(log, /msg="Wrote the default configuration file" file=tsprom\.yml/);
    assert.deepEqual(readdirSync(work).sort(), ['data', 'tsprom.yml']);
    assert.equal(readFileSync(join(work, 'tsprom.yml'), 'utf8'), readFileSync(join(ROOT, 'tsprom.yml'), 'utf8'));

    const q = (await (await fetch(`${base}/api/v1/query?query=1%2B1&time=4`)).json()) as unknown;
    assert.deepEqual(q, { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
    // Grafana's exemplar probe with exemplar storage off (the default): Prometheus 3.x's empty storage answers [].
    const probe = await fetch(`${base}/api/v1/query_exemplars`, { method: 'POST', body: new URLSearchParams({ query: 'test', start: String(Date.now() - 1_800_000), end: String(Date.now()) }) });
    assert.equal(await probe.text(), '{"status":"success","data":[]}');
    const bi = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()) as { data: Record<string, string> };
    assert.equal(bi.data['revision'], stamp.revision);
    assert.equal(bi.data['version'], pkg.version);
    // The UI came along: the index page refers to the hashed bundle of dist/ui.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'dist/ui/manifest.json'), 'utf8')) as { main: string };
    const page = await (await fetch(`${base}/query`)).text();
    assert.ok(page.includes(`/${manifest.main}`), 'the UI page is served from the package');
    assert.equal((await fetch(`${base}/${manifest.main}`)).status, 200);

    server.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    server = undefined;
    // Subcommands load their modules only when called: they came along too.
    const check = await run(bin, ['check', 'config', 'tsprom.yml'], { env, cwd: work });
    assert.match(check.stdout, /SUCCESS: tsprom\.yml is valid prometheus config file syntax/);
  } finally {
    if (server !== undefined && server.exitCode === null) server.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});
