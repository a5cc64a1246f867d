// `node scripts/build_ui.mjs [--check]`: bundles ui/ with esbuild into dist/ui/:
// hashed, minified assets under assets/, .gz and .br copies beside each, a
// manifest.json naming them, and index.html whose asset paths start with the
// placeholder the server replaces by the external URL's path. Prints the gzip
// size of each entry and fails when the query page exceeds its budget.
// --check also type-checks ui/ (tsc -p ui/tsconfig.json) first.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { brotliCompressSync, constants as zc, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'ui');
const assetsDir = join(outDir, 'assets');
/** The issue's budget for everything the query page loads, gzip-compressed. */
const QUERY_PAGE_BUDGET_BYTES = 350 * 1024;
/** The server replaces this with the external URL's path ('' or '/prefix'). */
export const PREFIX_PLACEHOLDER = '%%PREFIX%%';

if (process.argv.includes('--check')) {
  const t = spawnSync('npx', ['tsc', '-p', join(root, 'ui', 'tsconfig.json')], { stdio: 'inherit', cwd: root });
  if (t.status !== 0) process.exit(t.status ?? 1);
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(assetsDir, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'ui/src/main.tsx' },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const gz = (b) => gzipSync(b, { level: 9 });
const br = (b) => brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: b.length } });
const files = {};
for (const [out] of Object.entries(result.metafile.outputs)) {
  const abs = join(root, out);
  const body = readFileSync(abs);
  const g = gz(body);
  writeFileSync(`${abs}.gz`, g);
  writeFileSync(`${abs}.br`, br(body));
  files[relative(outDir, abs)] = { bytes: body.length, gzipBytes: g.length };
}

// The entry's JS and CSS, and the chunks each lazy page pulls in (by the source file that starts it).
const outputs = result.metafile.outputs;
const rel = (p) => relative(outDir, join(root, p));
const [mainOut, mainMeta] = Object.entries(outputs).find(([, m]) => m.entryPoint === 'ui/src/main.tsx');
const closure = (out) => {
  const seen = new Set();
  const walk = (o) => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const imp of outputs[o]?.imports ?? []) if (imp.kind === 'import-statement') walk(imp.path);
  };
  walk(out);
  return [...seen];
};
const pages = {};
for (const imp of mainMeta.imports) {
  if (imp.kind !== 'dynamic-import') continue;
  const m = outputs[imp.path];
  const name = basename(m.entryPoint ?? imp.path).replace(/\.[^.]+$/, '').replace(/-[A-Z0-9]+$/, '');
  pages[name] = closure(imp.path).map(rel);
}
const manifest = {
  main: rel(mainOut),
  css: mainMeta.cssBundle !== undefined ? rel(mainMeta.cssBundle) : null,
  mainFiles: closure(mainOut).map(rel),
  pages,
  files,
};
writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

const P = PREFIX_PLACEHOLDER;
const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>tsprom</title>
<link rel="icon" href="data:,">
${manifest.css !== null ? `<link rel="stylesheet" href="${P}/${manifest.css}">` : ''}
<meta name="tsprom-prefix" content="${P}">
<script type="module" src="${P}/${manifest.main}"></script>
</head><body><div id="app"></div>
<noscript>The tsprom UI needs JavaScript. The API is at ${P}/api/v1/.</noscript>
</body></html>
`;
writeFileSync(join(outDir, 'index.html'), html);

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const sum = (list) => list.reduce((a, f) => a + (files[f]?.gzipBytes ?? 0), 0);
const shell = sum([...manifest.mainFiles, ...(manifest.css !== null ? [manifest.css] : [])]);
const rows = [['shell (every page)', shell]];
for (const [name, list] of Object.entries(pages)) rows.push([`+ ${name}`, sum(list.filter((f) => !manifest.mainFiles.includes(f)))]);
const queryPage = shell + sum((pages.query ?? []).filter((f) => !manifest.mainFiles.includes(f)));
console.log('UI bundle (gzip):');
for (const [n, b] of rows) console.log(`  ${n.padEnd(26)} ${kib(b).padStart(10)}`);
console.log(`  ${'query page total'.padEnd(26)} ${kib(queryPage).padStart(10)}  (budget ${kib(QUERY_PAGE_BUDGET_BYTES)})`);
if (queryPage > QUERY_PAGE_BUDGET_BYTES) {
  console.error(`query page bundle ${kib(queryPage)} exceeds the ${kib(QUERY_PAGE_BUDGET_BYTES)} budget`);
  process.exit(1);
}
