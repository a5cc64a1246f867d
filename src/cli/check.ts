// `tsprom check config|rules`: promtool's checks of prometheus.yml and rule
// files, with its output (progress on stdout, problems on stderr) and exit
// codes (0 valid, 1 invalid, 3 lint problems under --lint-fatal).
//
//   check config [--syntax-only] [--lint=...] [--lint-fatal] <config-files...>
//   check rules [--lint=...] [--lint-fatal] [<rule-files...>]   (standard input without files)
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatDuration, InvalidDurationError, parseDuration } from '../gofmt/duration.js';
import { ConfigError, expandGlob, loadConfig } from '../config/load.js';
import type { FileSDConfig, ScrapeConfig, TLSConfig } from '../config/types.js';
import { parseTargetGroups } from '../discovery/target_group.js';
import { lintRuleFile, loadRuleFile, parseRuleFile, type ParsedRules, type RuleFileError } from '../rules/rule_file.js';

/** Where a subcommand writes and reads; tests pass collecting ones. */
export interface CommandIO {
  stdout(s: string): void;
  stderr(s: string): void;
  readStdin(): string;
}

export const processIO: CommandIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  readStdin: () => readFileSync(0, 'utf8'),
};

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
/** promtool's code for "lint problems found" under --lint-fatal. */
const EXIT_LINT = 3;

const PROGRAM = 'tsprom';

/** A bad command line: printed as `tsprom: error: <message>, try --help`, exit 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `usage: ${PROGRAM} check <command> [<flags>] [<args>...]

Validate configuration and rule files as promtool does.

Commands:
  check config [<flags>] <config-files>...
      --syntax-only              Parse the config only; do not look at the files it names.
      --lint=duplicate-rules     Comma-separated lints: all, duplicate-rules, too-long-scrape-interval, none.
      --lint-fatal               Exit with code 3 when a lint finds something.
      --ignore-unknown-fields    Accept keys Prometheus does not know in the rule files.
      --query.lookback-delta=5m  Lookback delta the too-long-scrape-interval lint compares with.
      --enable-feature=<name>    PromQL features the rule expressions may use (e.g. promql-experimental-functions).
  check rules [<flags>] [<rule-files>...]
      --lint=duplicate-rules     Comma-separated lints: all, duplicate-rules, none.
      --lint-fatal               Exit with code 3 when a lint finds something.
      --ignore-unknown-fields    Accept keys Prometheus does not know in the rule files.
      --enable-feature=<name>    PromQL features the rule expressions may use.
      Without files, the rules are read from standard input.
`;

export interface ParsedFlags {
  readonly flags: Map<string, string[]>;
  readonly args: string[];
}

/**
 * Splits `--name=value`, `--name value` (for flags taking a value) and bare
 * boolean flags from positional arguments; unknown flags are usage errors.
 */
export function parseCommandFlags(argv: readonly string[], valued: ReadonlySet<string>, bools: ReadonlySet<string>): ParsedFlags {
  const flags = new Map<string, string[]>();
  const args: string[] = [];
  const add = (name: string, v: string): void => {
    flags.set(name, [...(flags.get(name) ?? []), v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown short flag '${a}'`);
      args.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (valued.has(name)) {
      if (eq >= 0) add(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) add(name, argv[++i]!);
      else throw new UsageError(`expected argument for flag '--${name}'`);
    } else if (bools.has(name) || (name.startsWith('no-') && bools.has(name.slice(3)))) {
      const neg = name.startsWith('no-') && !bools.has(name);
      const base = neg ? name.slice(3) : name;
      if (eq >= 0) throw new UsageError(`unexpected argument for flag '--${base}'`);
      add(base, neg ? 'false' : 'true');
    } else {
      throw new UsageError(`unknown long flag '--${name}'`);
    }
  }
  return { flags, args };
}

function lastFlag(p: ParsedFlags, name: string, def: string): string {
  const v = p.flags.get(name);
  return v === undefined ? def : v[v.length - 1]!;
}

/** --enable-feature values (repeatable, comma-separated), e.g. promql-experimental-functions. */
export function enabledFeatures(p: ParsedFlags): ReadonlySet<string> {
  return new Set((p.flags.get('enable-feature') ?? []).flatMap((v) => v.split(',')).filter((f) => f !== ''));
}

/** Files must exist, as promtool's argument parser requires. */
export function requireExistingFiles(files: readonly string[]): void {
  for (const f of files) if (!existsSync(f)) throw new UsageError(`path '${f}' does not exist`);
}

interface RulesLintSettings {
  /** PromQL features the rule expressions may use (--enable-feature). */
  readonly features: ReadonlySet<string>;
  readonly duplicateRules: boolean;
  readonly fatal: boolean;
  /** --ignore-unknown-fields: rule files may carry keys Prometheus does not know. */
  readonly ignoreUnknownFields: boolean;
}

/** Reads `--lint` for rules; unknown options are warned about on stdout, as promtool does. */
function rulesLintSettings(value: string, fatal: boolean, ignoreUnknownFields: boolean, features: ReadonlySet<string>, io: CommandIO): RulesLintSettings {
  let duplicateRules = false;
  if (value !== '') {
    for (const opt of value.split(',')) {
      if (opt === 'all' || opt === 'duplicate-rules') duplicateRules = true;
      else if (opt !== 'none') io.stdout(`WARNING: unknown lint option: ${JSON.stringify(opt)}\n`);
    }
  }
  return { features, duplicateRules, fatal, ignoreUnknownFields };
}

interface ConfigLintSettings {
  readonly rules: RulesLintSettings;
  /** 0: scrape intervals are not linted. */
  readonly lookbackDeltaMs: number;
}

function configLintSettings(
  value: string,
  fatal: boolean,
  ignoreUnknownFields: boolean,
  features: ReadonlySet<string>,
  lookbackDeltaMs: number,
  io: CommandIO,
): ConfigLintSettings {
  const opts = value.split(',');
  if (opts.includes('none')) return { rules: { features, duplicateRules: false, fatal, ignoreUnknownFields }, lookbackDeltaMs: 0 };
  const scrape = opts.includes('all') || opts.includes('too-long-scrape-interval');
  const ruleOpts = opts.filter((o) => o !== 'too-long-scrape-interval');
  return { rules: rulesLintSettings(ruleOpts.join(','), fatal, ignoreUnknownFields, features, io), lookbackDeltaMs: scrape ? lookbackDeltaMs : 0 };
}

/** Outcome of checking some files: `failed` when anything was reported, `hasErrors` when more than lint. */
interface CheckOutcome {
  failed: boolean;
  hasErrors: boolean;
}

function exitCode(o: CheckOutcome, fatal: boolean): number {
  if (o.failed && o.hasErrors) return EXIT_FAILURE;
  if (o.failed && fatal) return EXIT_LINT;
  return EXIT_SUCCESS;
}

/** Entry point of `tsprom check ...`. */
export async function runCheckCommand(argv: readonly string[], io: CommandIO = processIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'config') return checkConfigCommand(rest, io);
    if (cmd === 'rules') return checkRulesCommand(rest, io);
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      io.stdout(USAGE);
      return cmd === undefined ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    throw new UsageError(`expected command but got ${JSON.stringify(cmd)}`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${PROGRAM}: error: ${e.message}, try --help\n`);
      return EXIT_FAILURE;
    }
    throw e;
  }
}

function checkConfigCommand(argv: readonly string[], io: CommandIO): number {
  const p = parseCommandFlags(argv, new Set(['lint', 'query.lookback-delta', 'enable-feature']), new Set(['syntax-only', 'lint-fatal', 'ignore-unknown-fields', 'help']));
  if (p.flags.has('help')) {
    io.stdout(USAGE);
    return EXIT_SUCCESS;
  }
  if (p.args.length === 0) throw new UsageError("required argument 'config-files' not provided");
  requireExistingFiles(p.args);
  let lookbackMs: number;
  try {
    lookbackMs = parseDuration(lastFlag(p, 'query.lookback-delta', '5m'));
  } catch (e) {
    if (e instanceof InvalidDurationError) throw new UsageError(`invalid value for --query.lookback-delta: ${e.message}`);
    throw e;
  }
  const fatal = lastFlag(p, 'lint-fatal', 'false') === 'true';
  const ignore = lastFlag(p, 'ignore-unknown-fields', 'false') === 'true';
  const lint = configLintSettings(lastFlag(p, 'lint', 'duplicate-rules'), fatal, ignore, enabledFeatures(p), lookbackMs, io);
  return exitCode(checkConfigFiles(p.args, lastFlag(p, 'syntax-only', 'false') === 'true', lint, io), fatal);
}

function checkConfigFiles(files: readonly string[], syntaxOnly: boolean, lint: ConfigLintSettings, io: CommandIO): CheckOutcome {
  const out: CheckOutcome = { failed: false, hasErrors: false };
  for (const f of files) {
    io.stdout(`Checking ${f}\n`);
    let ruleFiles: string[] = [];
    let scrapeConfigs: readonly ScrapeConfig[] = [];
    try {
      ({ ruleFiles, scrapeConfigs } = checkOneConfig(f, syntaxOnly, io));
      if (ruleFiles.length > 0) io.stdout(`  SUCCESS: ${ruleFiles.length} rule files found\n`);
      io.stdout(` SUCCESS: ${f} is valid prometheus config file syntax\n`);
    } catch (e) {
      if (!(e instanceof ConfigError || e instanceof ConfigCheckError)) throw e;
      io.stderr(`  FAILED: ${e.message}\n`);
      out.failed = true;
      out.hasErrors = true;
    }
    io.stdout('\n');
    if (!syntaxOnly) {
      if (lintScrapeConfigs(scrapeConfigs, lint.lookbackDeltaMs, io)) out.failed = true;
      const r = checkRuleFiles(ruleFiles, lint.rules, io);
      out.failed ||= r.failed;
      out.hasErrors ||= r.hasErrors;
    }
  }
  return out;
}

class ConfigCheckError extends Error {
  override name = 'ConfigCheckError';
}

/**
 * Loads one config. Unless syntax only, the files it names must be there:
 * rule files, credentials, TLS certificates and keys; file_sd files are read
 * (a missing one is only a warning, on stdout).
 */
function checkOneConfig(file: string, syntaxOnly: boolean, io: CommandIO): { ruleFiles: string[]; scrapeConfigs: readonly ScrapeConfig[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigCheckError(`parsing YAML file ${file}: ${(e as Error).message}`);
  }
  // Relative paths are joined to the config's directory as given, so they print as promtool prints them.
  const cfg = loadConfig(text, { file, dir: dirname(file) });
  if (syntaxOnly) return { ruleFiles: [], scrapeConfigs: cfg.scrapeConfigs };
  const ruleFiles: string[] = [];
  for (const pattern of cfg.ruleFiles) {
    const matches = expandGlob(pattern);
    // An explicit file (no `*`) must exist; a glob may match nothing.
    if (!pattern.includes('*') && matches.length === 0) throw new ConfigCheckError(`${JSON.stringify(pattern)} does not point to an existing file`);
    ruleFiles.push(...matches);
  }
  for (const sc of cfg.scrapeConfigs) {
    const cred = sc.httpClient.authorization?.credentialsFile ?? '';
    checkFileExists(cred, (err) => `error checking authorization credentials or bearer token file ${JSON.stringify(cred)}: ${err}`);
    checkTLSFiles(sc.httpClient.tlsConfig);
    for (const sd of sc.fileSdConfigs) checkFileSD(sd, `in scrape job ${JSON.stringify(sc.jobName)}`, io);
  }
  for (const am of cfg.alerting.alertmanagers) for (const sd of am.fileSdConfigs) checkFileSD(sd, 'in alertmanager config', io);
  return { ruleFiles, scrapeConfigs: cfg.scrapeConfigs };
}

/** Go's os.Stat error text for the common cases. */
function statError(path: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return `stat ${path}: no such file or directory`;
  if (code === 'EACCES') return `stat ${path}: permission denied`;
  return `stat ${path}: ${(e as Error).message}`;
}

/** Nothing to check for an empty path. */
function checkFileExists(path: string, message: (err: string) => string): void {
  if (path === '') return;
  try {
    statSync(path);
  } catch (e) {
    throw new ConfigCheckError(message(statError(path, e)));
  }
}

function checkTLSFiles(tls: TLSConfig): void {
  checkFileExists(tls.certFile, (err) => `error checking client cert file ${JSON.stringify(tls.certFile)}: ${err}`);
  checkFileExists(tls.keyFile, (err) => `error checking client key file ${JSON.stringify(tls.keyFile)}: ${err}`);
}

/** Reads every file a file_sd config names; promtool only warns about patterns that match nothing. */
function checkFileSD(sd: FileSDConfig, where: string, io: CommandIO): void {
  for (const pattern of sd.files) {
    const files = expandGlob(pattern);
    if (files.length === 0) {
      io.stdout(`  WARNING: file ${JSON.stringify(pattern)} for file_sd ${where} does not exist\n`);
      continue;
    }
    for (const f of files) {
      try {
        readSDFile(f);
      } catch (e) {
        throw new ConfigCheckError(`checking SD file ${JSON.stringify(pattern)}: ${(e as Error).message}`);
      }
    }
  }
}

function readSDFile(path: string): void {
  const ext = extname(path);
  const text = readFileSync(path, 'utf8');
  let doc: unknown;
  switch (ext.toLowerCase()) {
    case '.json':
      doc = JSON.parse(text);
      break;
    case '.yml':
    case '.yaml':
      doc = parseYaml(text, { uniqueKeys: true, strict: true });
      break;
    default:
      throw new Error(`invalid file extension: ${JSON.stringify(ext)}`);
  }
  parseTargetGroups(doc, (i) => `${path}:${i}`, {});
}

/** promtool's too-long-scrape-interval lint: a scrape interval at or past the lookback delta makes series go stale. */
function lintScrapeConfigs(scrapeConfigs: readonly ScrapeConfig[], lookbackDeltaMs: number, io: CommandIO): boolean {
  if (lookbackDeltaMs <= 0) return false;
  for (const sc of scrapeConfigs) {
    if (sc.scrapeIntervalMs >= lookbackDeltaMs) {
      io.stderr(
        `  FAILED: too long scrape interval found, data point will be marked as stale - job: ${sc.jobName}, interval: ${formatDuration(sc.scrapeIntervalMs)}\n`,
      );
      return true;
    }
  }
  return false;
}

function checkRulesCommand(argv: readonly string[], io: CommandIO): number {
  const p = parseCommandFlags(argv, new Set(['lint', 'enable-feature']), new Set(['lint-fatal', 'ignore-unknown-fields', 'help']));
  if (p.flags.has('help')) {
    io.stdout(USAGE);
    return EXIT_SUCCESS;
  }
  requireExistingFiles(p.args);
  const fatal = lastFlag(p, 'lint-fatal', 'false') === 'true';
  const lint = rulesLintSettings(lastFlag(p, 'lint', 'duplicate-rules'), fatal, lastFlag(p, 'ignore-unknown-fields', 'false') === 'true', enabledFeatures(p), io);
  const outcome = p.args.length === 0 ? checkRulesFromStdin(lint, io) : checkRuleFiles(p.args, lint, io);
  return exitCode(outcome, fatal);
}

function checkRulesFromStdin(lint: RulesLintSettings, io: CommandIO): CheckOutcome {
  io.stdout('Checking standard input\n');
  let text: string;
  try {
    text = io.readStdin();
  } catch (e) {
    io.stderr(`  FAILED: ${(e as Error).message}\n`);
    return { failed: true, hasErrors: true };
  }
  // Standard input has no file name to prefix the errors with.
  return reportRules(parseRuleFile(text, '', { features: lint.features, ignoreUnknownFields: lint.ignoreUnknownFields }), (e) => e.detail, lint, io);
}

function checkRuleFiles(files: readonly string[], lint: RulesLintSettings, io: CommandIO): CheckOutcome {
  const out: CheckOutcome = { failed: false, hasErrors: false };
  for (const f of files) {
    io.stdout(`Checking ${f}\n`);
    const r = reportRules(loadRuleFile(f, { features: lint.features, ignoreUnknownFields: lint.ignoreUnknownFields }), (e) => e.message, lint, io);
    out.failed ||= r.failed;
    out.hasErrors ||= r.hasErrors;
  }
  return out;
}

/** Reports one file's rules; prints the blank line that ends its block except after errors, as promtool 3.x. */
function reportRules(parsed: ParsedRules, errorText: (e: RuleFileError) => string, lint: RulesLintSettings, io: CommandIO): CheckOutcome {
  const { groups, errors } = parsed;
  if (errors.length > 0) {
    io.stderr(`  FAILED:\n${errors.map((e) => `${errorText(e)}\n`).join('')}`);
    return { failed: true, hasErrors: true };
  }
  const lintErrors = lint.duplicateRules ? lintRuleFile(groups) : [];
  if (lintErrors.length > 0) io.stderr(`  FAILED:\n${lintErrors.map((e) => `${e}\n`).join('')}`);
  else io.stdout(`  SUCCESS: ${groups.reduce((n, g) => n + g.rules.length, 0)} rules found\n`);
  io.stdout('\n');
  return { failed: lintErrors.length > 0, hasErrors: false };
}
