// Command-line flags of the ingest and queries benches: `--name value` or `--name=value`.

export class FlagError extends Error {
  override name = 'FlagError';
}

/** The value of --name, or undefined when absent. */
export function flagValue(name: string, argv: readonly string[] = process.argv.slice(2)): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new FlagError(`--${name} needs a value`);
      return v;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** A positive number flag. */
export function numberFlag(name: string, def: number): number {
  const v = flagValue(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new FlagError(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/** Comma-separated positive integers. */
export function listFlag(name: string, def: readonly number[]): number[] {
  const v = flagValue(name);
  if (v === undefined) return [...def];
  const out = v.split(',').map(Number);
  if (out.some((n) => !Number.isInteger(n) || n <= 0)) throw new FlagError(`--${name} must be positive integers separated by commas, got ${JSON.stringify(v)}`);
  return out;
}
