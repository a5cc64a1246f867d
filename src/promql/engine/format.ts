// Go's time formatting as it appears in annotations. Go's quoting and float
// formats live in gofmt/.

/** Go's time.Time.Format(time.RFC3339) for a whole-second UTC timestamp in ms. */
export function formatRFC3339(ms: number): string {
  const d = new Date(Math.trunc(ms / 1000) * 1000);
  return d.toISOString().replace('.000Z', 'Z');
}
