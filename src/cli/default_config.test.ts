import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_CONFIG, chooseConfigFile, DEFAULT_CONFIG_FILE } from './default_config.js';

function withDir(f: (dir: string, bundled: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-defcfg-'));
  const bundled = join(dir, 'shipped.yml');
  writeFileSync(bundled, 'global:\n  scrape_interval: 15s\n');
  try {
    f(dir, bundled);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the shipped configuration is tsprom.yml at the package root', () => {
  assert.ok(existsSync(BUNDLED_CONFIG), BUNDLED_CONFIG);
  assert.match(readFileSync(BUNDLED_CONFIG, 'utf8'), /scrape_configs:/);
});

test('a missing default config file is written from the shipped one, once', () => {
  withDir((dir, bundled) => {
    const first = chooseConfigFile(DEFAULT_CONFIG_FILE, dir, bundled);
    assert.deepEqual(first, { kind: 'written', file: DEFAULT_CONFIG_FILE, from: bundled });
    assert.equal(readFileSync(join(dir, DEFAULT_CONFIG_FILE), 'utf8'), readFileSync(bundled, 'utf8'));
    // The user's edits are theirs: a second start keeps the file.
    writeFileSync(join(dir, DEFAULT_CONFIG_FILE), 'global: {}\n');
    assert.deepEqual(chooseConfigFile(DEFAULT_CONFIG_FILE, dir, bundled), { kind: 'as-given', file: DEFAULT_CONFIG_FILE });
    assert.equal(readFileSync(join(dir, DEFAULT_CONFIG_FILE), 'utf8'), 'global: {}\n');
  });
});

test('an explicitly named config file is never filled in', () => {
  withDir((dir, bundled) => {
    assert.deepEqual(chooseConfigFile('other.yml', dir, bundled), { kind: 'as-given', file: 'other.yml' });
    assert.equal(existsSync(join(dir, 'other.yml')), false);
  });
});

test('where the copy cannot be written, the shipped file is read in place', () => {
  withDir((dir, bundled) => {
    // A working directory that is gone fails the copy as a read-only one does (root ignores file modes).
    const c = chooseConfigFile(DEFAULT_CONFIG_FILE, join(dir, 'gone'), bundled);
    assert.equal(c.kind, 'bundled');
    assert.equal(c.file, bundled);
  });
});
