// The configuration a fresh install starts with. `--config.file` defaults to
// tsprom.yml in the working directory, as Prometheus's defaults to
// prometheus.yml; when that default is missing, the tsprom.yml shipped at the
// package root (beside dist/) is copied there, so `tsprom` runs from any
// folder and the copy is the user's to edit and reload. Where the folder is
// not writable the shipped file is read in place.
import { copyFileSync, constants, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The flag's default value (flags.ts). */
export const DEFAULT_CONFIG_FILE = 'tsprom.yml';

/** tsprom.yml at the package root: this file is dist/src/cli/default_config.js. */
export const BUNDLED_CONFIG = fileURLToPath(new URL('../../../tsprom.yml', import.meta.url));

export type ConfigChoice =
  | { readonly kind: 'as-given'; readonly file: string }
  | { readonly kind: 'written'; readonly file: string; readonly from: string }
  | { readonly kind: 'bundled'; readonly file: string; readonly reason: string };

/**
 * The config file the server should load. Only the default path is ever filled in: an
 * explicitly named file that is missing stays an error, as in Prometheus.
 */
export function chooseConfigFile(configFile: string, cwd: string = process.cwd(), bundled: string = BUNDLED_CONFIG): ConfigChoice {
  if (configFile !== DEFAULT_CONFIG_FILE) return { kind: 'as-given', file: configFile };
  const target = resolve(cwd, configFile);
  if (existsSync(target) || !existsSync(bundled)) return { kind: 'as-given', file: configFile };
  try {
    // COPYFILE_EXCL: two servers starting in one folder must not overwrite each other's copy.
    copyFileSync(bundled, target, constants.COPYFILE_EXCL);
    return { kind: 'written', file: configFile, from: bundled };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { kind: 'as-given', file: configFile };
    return { kind: 'bundled', file: bundled, reason: (e as Error).message };
  }
}
