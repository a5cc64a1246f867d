import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInfo, versionText } from './build.js';

test('--version has the lines and the column of prometheus --version, the runtime line naming Node', () => {
  const b = buildInfo();
  const lines = versionText('tsprom').split('\n');
  assert.deepEqual(lines, [
    `tsprom, version ${b.version} (branch: ${b.branch}, revision: ${b.revision})`,
    `  build user:       ${b.buildUser}`,
    `  build date:       ${b.buildDate}`,
    `  node version:     ${process.version}`,
    `  platform:         ${process.platform}/${process.arch}`,
    '  tags:             unknown',
    '',
  ]);
  // Values start in one column, as in Prometheus's template.
  for (const l of lines.slice(1, -1)) assert.match(l.slice(0, 20), /^ {2}[a-z ]+: +$/, l);
});
