// The compact decoder of remote write 1.0 bodies (decompressed): per series
// the byte range of its label fields in the body and a hash of those bytes,
// samples in typed arrays. No string is built: the series cache
// (ingest_series_cache.ts) finds a known series by its label bytes, and only
// unknown ones are decoded to labels (write_request.ts) and checked.
//
// It takes only the shapes real senders write (one-byte tags, labels
// contiguous, float samples, metadata); anything else (exemplars, native
// histograms, unknown fields, long varints, malformed input) answers null
// and the caller decodes the body with the full decoder, which also gives a
// malformed body its exact error. So when it answers, the full decoder would
// accept the body and see the same series and samples (property-tested).

/** A decoded 1.0 request; the arrays may be longer than their counts. */
/**
 * Arrays for decodeCompactV1 to fill before it allocates its own: sampleStart
 * one longer than lblStart, lblEnd and hash; vs as long as ts.
 */
export interface CompactScratch {
  /** Series i's label fields (tags included) are buf[lblStart[i], lblEnd[i]). */
  readonly lblStart: Uint32Array;
  readonly lblEnd: Uint32Array;
  /** hashBytes of series i's label bytes. */
  readonly hash: Int32Array;
  /** Series i's samples are [sampleStart[i], sampleStart[i + 1]) of ts and vs (length series + 1). */
  readonly sampleStart: Uint32Array;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** A decoded body: its arrays (CompactScratch's, filled) and the counts that bound them. */
export interface CompactV1 extends CompactScratch {
  /** The decompressed body the ranges point into. */
  readonly buf: Uint8Array;
  readonly series: number;
  readonly samples: number;
  readonly metadata: number;
}

/** A first guess of the samples in a decoded body of this many bytes, which rarely regrows: a sample takes at least 13 bytes with both fields set. */
export function sampleGuess(bodyBytes: number): number {
  return Math.max(INITIAL_SERIES, Math.ceil(bodyBytes / 64));
}

/** The buffers of a CompactV1 to transfer between threads (shared ones are shared, not moved). */
export function compactBuffers(c: CompactV1): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of [c.buf, c.lblStart, c.lblEnd, c.hash, c.sampleStart, c.ts, c.vs]) if (a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  return [...out];
}

/**
 * A 32-bit hash of buf[start, end): murmur3's block mixing in two independent
 * lanes of four bytes each (so the CPU overlaps their multiplies), murmur3's
 * finalizer at the end. Not collision-free: the cache compares bytes on a
 * hit. Hot paths that hold a DataView of the buffer call hashView (the same
 * hash, with 32-bit loads); this one builds no view, for short keys.
 */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h1 = (0x9747b28c ^ (end - start)) | 0;
  let h2 = 0x2d358dcc;
  let i = start;
  // Every index read is below end <= buf.length.
  for (; i + 8 <= end; i += 8) {
    h1 = lane1(h1, buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    h2 = lane2(h2, buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
  }
  if (i + 4 <= end) {
    h1 ^= tail1(buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    i += 4;
  }
  if (i < end) {
    let k = buf[i]!;
    if (i + 1 < end) k |= buf[i + 1]! << 8;
    if (i + 2 < end) k |= buf[i + 2]! << 16;
    h2 ^= tail2(k);
  }
  return finish(h1, h2);
}

/**
 * hashBytes over a view of the buffer, with 32-bit loads: label runs of
 * ~100-200 bytes, most of the compact decoder's time. The steps are written
 * out (the decoder that calls this is too big for the JIT to inline them too;
 * ~10% slower with calls); tests check it equals hashBytes.
 */
export function hashView(v: DataView, start: number, end: number): number {
  let h1 = (0x9747b28c ^ (end - start)) | 0;
  let h2 = 0x2d358dcc;
  let i = start;
  // DataView bounds-checks every load; end <= the view's length keeps them in range.
  for (; i + 8 <= end; i += 8) {
    let k1 = v.getInt32(i, true);
    let k2 = v.getInt32(i + 4, true);
    k1 = Math.imul(k1, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    k2 = Math.imul(k2, 0x1b873593);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, 0xcc9e2d51);
    h2 = (h2 << 15) | (h2 >>> 17);
    h2 = (Math.imul(h2, 5) + 0x38495ab5) | 0;
  }
  // 0 to 7 bytes left: a whole word into lane 1, then 1 to 3 bytes into lane 2.
  if (i + 4 <= end) {
    let k = Math.imul(v.getInt32(i, true), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= Math.imul(k, 0x1b873593);
    i += 4;
  }
  if (i < end) {
    let k = v.getUint8(i);
    if (i + 1 < end) k |= v.getUint8(i + 1) << 8;
    if (i + 2 < end) k |= v.getUint8(i + 2) << 16;
    k = Math.imul(k, 0x1b873593);
    k = (k << 17) | (k >>> 15);
    h2 ^= Math.imul(k, 0xcc9e2d51);
  }
  return finish(h1, h2);
}

// hashBytes's steps (hashView has them written out).
function lane1(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function lane2(h: number, k: number): number {
  k = Math.imul(k, 0x1b873593);
  k = (k << 17) | (k >>> 15);
  h ^= Math.imul(k, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return (Math.imul(h, 5) + 0x38495ab5) | 0;
}

function tail1(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

function tail2(k: number): number {
  k = Math.imul(k, 0x1b873593);
  k = (k << 17) | (k >>> 15);
  return Math.imul(k, 0xcc9e2d51);
}

function finish(h1: number, h2: number): number {
  let h = h1 ^ Math.imul(h2, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Initial capacity of the per-series and per-sample arrays; they double as needed. */
const INITIAL_SERIES = 256;

// One-byte tags (field << 3 | wire type) of the shapes taken.
const TAG_TIMESERIES = 0x0a; // WriteRequest.timeseries = 1, length-delimited
const TAG_METADATA = 0x1a; // WriteRequest.metadata = 3, length-delimited
const TAG_LABEL = 0x0a; // TimeSeries.labels = 1
const TAG_SAMPLE = 0x12; // TimeSeries.samples = 2
const TAG_NAME = 0x0a; // Label.name = 1
const TAG_VALUE = 0x12; // Label.value = 2
const TAG_SAMPLE_VALUE = 0x09; // Sample.value = 1, 64-bit
const TAG_SAMPLE_TS = 0x10; // Sample.timestamp = 2, varint

/** Thrown inside the decoder for any shape it does not take; never escapes. */
const NOT_TAKEN = new Error('not taken');

/**
 * The length varint at buf[p]: at most 4 bytes (< 2^28), ending before end,
 * with that many bytes left before end after it. Answers len * 4 + (the
 * varint's bytes - 1), so callers get both without an object; any other
 * shape throws NOT_TAKEN.
 */
function lengthAt(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) throw NOT_TAKEN;
  let b = buf[p]!;
  if (b < 0x80) {
    if (b > end - p - 1) throw NOT_TAKEN;
    return b << 2;
  }
  let len = b & 0x7f;
  let k = 1;
  for (;;) {
    if (p + k >= end) throw NOT_TAKEN;
    b = buf[p + k]!;
    if (k === 3) {
      if (b >= 0x80) throw NOT_TAKEN;
      len |= b << 21;
      break;
    }
    len |= (b & 0x7f) << (7 * k);
    if (b < 0x80) break;
    k++;
  }
  if (len > end - p - k - 1) throw NOT_TAKEN;
  return (len << 2) | k;
}

/**
 * Decodes a prometheus.WriteRequest into a CompactV1, or answers null when
 * the body holds anything but the common shapes (then use decodeWriteRequest).
 * The returned arrays are fresh (owned, transferable), or scratch's while
 * they are long enough; buf is kept, not copied.
 */
export function decodeCompactV1(buf: Uint8Array, scratch?: CompactScratch): CompactV1 | null {
  try {
    return decode(buf, scratch);
  } catch (e) {
    if (e === NOT_TAKEN) return null;
    throw e;
  }
}

// One function with its state in locals, each message walked once (label
// fields are checked in the pass that finds the run's bounds). No class:
// optimized code holds an instance's map only weakly, and when no instance is
// alive at a full GC the map goes and the code is thrown away (seen at every
// GC: about twice as slow until it is optimized again).
function decode(buf: Uint8Array, scratch: CompactScratch | undefined): CompactV1 {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = buf.length;
  let lblStart: Uint32Array;
  let lblEnd: Uint32Array;
  let hash: Int32Array;
  let sampleStart: Uint32Array;
  let ts: Float64Array;
  let vs: Float64Array;
  if (scratch !== undefined) {
    ({ lblStart, lblEnd, hash, sampleStart, ts, vs } = scratch);
  } else {
    lblStart = new Uint32Array(INITIAL_SERIES);
    lblEnd = new Uint32Array(INITIAL_SERIES);
    hash = new Int32Array(INITIAL_SERIES);
    sampleStart = new Uint32Array(INITIAL_SERIES + 1);
    const guess = sampleGuess(end);
    ts = new Float64Array(guess);
    vs = new Float64Array(guess);
  }
  let n = 0;
  let ns = 0;
  let metadata = 0;
  let p = 0;
  while (p < end) {
    const tag = buf[p]!;
    const r = lengthAt(buf, p + 1, end);
    const start = p + 2 + (r & 3);
    p = start + (r >>> 2);
    if (tag === TAG_METADATA) {
      metadata++;
      continue;
    }
    if (tag !== TAG_TIMESERIES) throw NOT_TAKEN;
    // The TimeSeries message buf[start, p).
    if (n + 1 >= lblStart.length) {
      const cap = lblStart.length * 2;
      lblStart = grownU32(lblStart, cap);
      lblEnd = grownU32(lblEnd, cap);
      const h = new Int32Array(cap);
      h.set(hash);
      hash = h;
      sampleStart = grownU32(sampleStart, cap + 1);
    }
    sampleStart[n] = ns;
    let lblS = -1;
    let lblE = -1;
    let afterLabels = false;
    for (let q = start; q < p; ) {
      // The label field senders write: a Label message of a name then a
      // value, every length under 128 bytes. Its tags and one-byte lengths are
      // checked two and four bytes at a time; any other shape goes below.
      if (q + 4 <= p) {
        // Bytes: label tag, message length (< 0x80), name tag, name length (< 0x80).
        const w = v.getUint32(q, true);
        if ((w & 0x80ff80ff) === 0x000a000a) {
          const e = q + 2 + ((w >>> 8) & 0xff);
          const m = q + 4 + (w >>> 24);
          // Then the value's tag and length (< 0x80), ending the message.
          if (e <= p && m + 2 <= e) {
            const x = v.getUint16(m, true);
            if ((x & 0x80ff) === TAG_VALUE && m + 2 + (x >>> 8) === e) {
              if (afterLabels) throw NOT_TAKEN;
              if (lblS < 0) lblS = q;
              q = lblE = e;
              continue;
            }
          }
        }
      }
      const field = buf[q]!;
      const rf = lengthAt(buf, q + 1, p);
      const s = q + 2 + (rf & 3);
      const e = s + (rf >>> 2);
      if (field === TAG_LABEL) {
        // Labels must be one run: label bytes are the series' identity in the cache.
        if (afterLabels) throw NOT_TAKEN;
        if (lblS < 0) lblS = q;
        checkLabel(buf, s, e);
        lblE = e;
      } else if (field === TAG_SAMPLE) {
        if (lblS >= 0) afterLabels = true;
        if (ns === ts.length) {
          const grownTs = new Float64Array(ts.length * 2);
          grownTs.set(ts);
          ts = grownTs;
          const grownVs = new Float64Array(vs.length * 2);
          grownVs.set(vs);
          vs = grownVs;
        }
        readSample(buf, v, s, e, ts, vs, ns);
        ns++;
      } else {
        throw NOT_TAKEN;
      }
      q = e;
    }
    if (lblS < 0) lblS = lblE = start;
    lblStart[n] = lblS;
    lblEnd[n] = lblE;
    hash[n] = hashView(v, lblS, lblE);
    n++;
  }
  sampleStart[n] = ns;
  return { buf, series: n, lblStart, lblEnd, hash, sampleStart, ts, vs, samples: ns, metadata };
}

/** Checks a Label message buf[start, end): only name and value fields, each within the message. */
function checkLabel(buf: Uint8Array, start: number, end: number): void {
  for (let q = start; q < end; ) {
    const t = buf[q]!;
    if (t !== TAG_NAME && t !== TAG_VALUE) throw NOT_TAKEN;
    const r = lengthAt(buf, q + 1, end);
    q += 2 + (r & 3) + (r >>> 2);
  }
}

/**
 * Reads the Sample message buf[start, end) into ts[i] and vs[i]; a field
 * seen twice counts once, the last, as protobuf says.
 */
function readSample(buf: Uint8Array, v: DataView, start: number, end: number, ts: Float64Array, vs: Float64Array, i: number): void {
  let value = 0;
  let t = 0;
  let p = start;
  while (p < end) {
    const tag = buf[p++]!;
    if (tag === TAG_SAMPLE_VALUE) {
      if (p + 8 > end) throw NOT_TAKEN;
      value = v.getFloat64(p, true);
      p += 8;
    } else if (tag === TAG_SAMPLE_TS) {
      // Up to 7 bytes (49 bits, exact in a double); longer ones (negative timestamps) go to the full decoder.
      let mul = 1;
      t = 0;
      for (let k = 0; ; k++) {
        if (k === 7 || p >= end) throw NOT_TAKEN;
        const b = buf[p++]!;
        t += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 128;
      }
    } else {
      throw NOT_TAKEN;
    }
  }
  ts[i] = t;
  vs[i] = value;
}

/** A copy of a in a new array of length n (> a.length). */
function grownU32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}
