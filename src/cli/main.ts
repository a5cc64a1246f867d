#!/usr/bin/env node
// cli: the top floor. Entry points (this file), the server's wiring (server.ts,
// components.ts, flags.ts) and the subcommands (tsdb.ts, querylog.ts); it may import
// every other room and nothing imports it.
//
// `tsprom`: the server, or a subcommand (`tsprom tsdb ...`, `tsprom querylog ...`,
// `tsprom check config|rules ...`, `tsprom test rules ...`).
import { fileURLToPath } from 'node:url';
import { FlagError, FlagModeError, helpText, parseArgs, type ServerFlags } from './flags.js';
import { versionText } from '../metrics/build.js';

const PROGRAM = 'tsprom';

async function main(argv: string[]): Promise<number> {
  // Subcommands load only when asked for, so the server never pays for them.
  if (argv[0] === 'tsdb') return (await import('./tsdb.js')).runTsdbCommand(argv.slice(1));
  if (argv[0] === 'querylog') return (await import('./querylog.js')).runQuerylogCommand(argv.slice(1));
  if (argv[0] === 'check') return (await import('./check.js')).runCheckCommand(argv.slice(1));
  if (argv[0] === 'test') return (await import('./unittest.js')).runTestCommand(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof FlagModeError) {
      // Worded and exited as Prometheus does.
      process.stderr.write(e.message);
      return e.exitCode;
    }
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
  // The JS heap limit is fixed when Node starts: the server runs as a child started with a heap sized
  // from the memory limit (guard/reexec.ts), unless the user chose one (NODE_OPTIONS, node flags).
  const { detectMemoryLimit, heapLimitMiB, heapSizeGiven } = await import('../guard/memory_limit.js');
  const { runWithHeapLimit, watchLauncher } = await import('../guard/reexec.js');
  if (!watchLauncher() && !heapSizeGiven(process.execArgv, process.env['NODE_OPTIONS'])) {
    return runWithHeapLimit(fileURLToPath(import.meta.url), argv, heapLimitMiB(detectMemoryLimit(parsed.flags.memoryLimitBytes).bytes));
  }
  const { runServer } = await import('./server.js');
  // The real storage, engine, parser and scraper are wired in components.ts;
  // loaded here only, so `--help` and subcommands never pay for them.
  const { realComponents } = await import('./components.js');
  return runServer(await withConfigFile(parsed.flags), realComponents());
}

/** The flags with the config file to load: a first start in an empty folder gets the shipped default. */
async function withConfigFile(flags: ServerFlags): Promise<ServerFlags> {
  const { chooseConfigFile } = await import('./default_config.js');
  const choice = chooseConfigFile(flags.configFile);
  if (choice.kind === 'as-given') return flags;
  const { createLogger } = await import('../logging/logger.js');
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });
  if (choice.kind === 'written') logger.info('Wrote the default configuration file', { file: choice.file, from: choice.from });
  else logger.warn('Could not write the default configuration file, using the shipped one', { file: choice.file, err: choice.reason });
  return { ...flags, configFile: choice.file };
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
