// Go's time.Time as encoding/json writes it, for API fields that Prometheus marshals from a time.Time.

/** RFC 3339 in UTC with the fraction's trailing zeros trimmed; 0 is Go's zero time. */
export function formatGoTimeJSON(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}
