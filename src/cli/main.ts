#!/usr/bin/env node
// `tsprom`: the server, or a subcommand (`tsprom tsdb ...`, `tsprom querylog ...`).
import { FlagError, helpText, parseArgs } from './flags.js';
import { versionText } from '../metrics/build.js';
import type { Components } from './server.js';

const PROGRAM = 'tsprom';

type Subcommand = (argv: string[]) => unknown;

/**
 * Subcommands live in their own modules, loaded only when asked for, so the
 * server starts without them and a missing one is a clear error.
 */
const SUBCOMMANDS: Record<string, { module: string; fn: string }> = {
  tsdb: { module: './tsdb.js', fn: 'runTsdbCommand' },
  querylog: { module: './querylog.js', fn: 'runQuerylogCommand' },
};

async function runSubcommand(name: string, argv: string[]): Promise<number> {
  const { module, fn } = SUBCOMMANDS[name]!;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(new URL(module, import.meta.url).href)) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(`${PROGRAM}: error: the ${name} command is not available in this build\n`);
      return 1;
    }
    throw e;
  }
  const run = mod[fn];
  if (typeof run !== 'function') {
    process.stderr.write(`${PROGRAM}: error: the ${name} command is not available in this build\n`);
    return 1;
  }
  const code = await (run as Subcommand)(argv);
  return typeof code === 'number' ? code : 0;
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first !== undefined && Object.prototype.hasOwnProperty.call(SUBCOMMANDS, first)) return runSubcommand(first, argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`${PROGRAM}: error: ${e.message}, try --help\n`);
      return 1;
    }
    throw e;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText(PROGRAM));
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(versionText(PROGRAM));
    return 0;
  }
  const { runServer } = await import('./server.js');
  // The real storage, engine, parser and scraper are wired in components.ts;
  // loaded here only, so `--help` and subcommands never pay for them.
  const { realComponents } = (await import(new URL('./components.js', import.meta.url).href)) as {
    realComponents(): Components;
  };
  return runServer(parsed.flags, realComponents());
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: after a graceful shutdown nothing is left to wait for,
    // and stray timers in libraries must not keep the process alive.
    process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`${PROGRAM}: error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
