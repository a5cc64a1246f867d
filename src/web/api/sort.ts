// Go's map-key order for the API's JSON objects (json-iterator sorts keys by bytes).
import { compareStrings } from '../../gofmt/order.js';

/** A copy with keys in Go's sorted-map order (by UTF-8 bytes). */
export function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  // k is one of o's own keys, so o[k] is a T.
  for (const k of Object.keys(o).sort(compareStrings)) out[k] = o[k] as T;
  return out;
}
