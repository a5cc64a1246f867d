// Fails when an import under src/ closes a cycle between files or between folders
// (type-only imports count), or reaches up the layer order written below and in
// docs/architecture.md, so the layering stays true.
// Each directory is its own folder (promql/engine and promql/parser are two).
// Test files count in the file graph; in the folder graph they may reach upward,
// since nothing imports them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? 'src');

// From the ground floor up: a folder may import only folders on lower floors.
// Folders on one line are peers that must not import each other.
const LAYERS = [
  ['gofmt'],
  ['workers'],
  ['model'],
  ['model/textparse/gen'],
  ['model/textparse'],
  ['logging'],
  ['config'],
  ['guard'],
  ['relabel', 'template'],
  ['storage'],
  ['tsdb/encoding', 'tsdb/fileutil', 'tsdb/chunkenc'],
  ['tsdb/record', 'tsdb/tombstones', 'tsdb/index'],
  ['tsdb/chunks', 'tsdb/wal'],
  ['tsdb/head'],
  ['tsdb', 'tsdb/agent'],
  ['promql/parser'],
  ['promql/engine'],
  ['promql/promqltest'],
  ['querylog'],
  ['metrics'],
  ['httpclient'],
  ['discovery'],
  ['scrape'],
  ['remote/gen'],
  ['remote'],
  ['remote/otlp/gen'],
  ['remote/otlp'],
  ['rules', 'notifier'],
  ['web/api'],
  ['web'],
  ['cli'],
];
// A layer list given as the third argument replaces the one above (for tests of this script).
const layers = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], 'utf8')) : LAYERS;
const floorOf = new Map();
layers.forEach((floor, i) => floor.forEach((folder, j) => floorOf.set(folder, [i, j])));

function walk(dir, out) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = walk(root, []).sort();
const known = new Set(files);
const fileEdges = new Map();
for (const f of files) {
  const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
  const targets = new Set();
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const target = resolve(dirname(f), ref.fileName.replace(/\.js$/, '.ts'));
    if (known.has(target)) targets.add(target);
  }
  fileEdges.set(f, targets);
}

const isTest = (f) => f.endsWith('.test.ts');
const folderEdges = new Map();
for (const [f, targets] of fileEdges) {
  if (isTest(f)) continue;
  const from = relative(root, dirname(f)) || '.';
  if (!folderEdges.has(from)) folderEdges.set(from, new Set());
  for (const t of targets) {
    const to = relative(root, dirname(t)) || '.';
    if (to !== from) folderEdges.get(from).add(to);
  }
}

// Tarjan's strongly connected components; any component of more than one node is a cycle.
function cycles(edges) {
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], out = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

// One edge of a component that points back, to say where to look.
function witness(comp, edges) {
  const set = new Set(comp);
  return comp.flatMap((v) => [...(edges.get(v) ?? [])].filter((w) => set.has(w)).map((w) => `${v} -> ${w}`));
}

// Upward imports, and folders the layer list does not name.
const layerErrors = [];
for (const [from, targets] of folderEdges) {
  const a = floorOf.get(from);
  if (!a) { layerErrors.push(`folder ${from} is not in the layer list (scripts/check_imports.mjs, docs/architecture.md)`); continue; }
  for (const to of targets) {
    const b = floorOf.get(to);
    if (!b) continue; // reported as its own folder
    if (b[0] > a[0] || (b[0] === a[0] && b[1] !== a[1])) layerErrors.push(`upward import: ${from} -> ${to}`);
  }
}

const rel = (f) => relative(process.cwd(), f);
for (const e of layerErrors) console.error(e);
const fileCycles = cycles(fileEdges);
const folderCycles = cycles(folderEdges);
for (const c of folderCycles) {
  console.error(`folder cycle: ${c.join(', ')}`);
  for (const e of witness(c, folderEdges)) console.error(`  ${e}`);
}
for (const c of fileCycles) {
  console.error(`file cycle: ${c.map(rel).join(', ')}`);
  for (const e of witness(c, fileEdges)) console.error(`  ${e.split(' -> ').map(rel).join(' -> ')}`);
}
if (folderCycles.length || fileCycles.length || layerErrors.length) process.exit(1);
console.log(`imports: ${files.length} files, ${folderEdges.size} folders, no cycles`);
