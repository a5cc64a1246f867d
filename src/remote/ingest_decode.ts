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
export interface CompactV1 {
  /** The decompressed body the ranges point into. */
  readonly buf: Uint8Array;
  readonly series: number;
  /** Series i's label fields (tags included) are buf[lblStart[i], lblEnd[i]). */
  readonly lblStart: Uint32Array;
  readonly lblEnd: Uint32Array;
  /** hashBytes of series i's label bytes. */
  readonly hash: Int32Array;
  /** Series i's samples are [sampleStart[i], sampleStart[i + 1]) of ts and vs (length series + 1). */
  readonly sampleStart: Uint32Array;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly samples: number;
  readonly metadata: number;
}

/** The buffers of a CompactV1 to transfer between threads. */
export function compactBuffers(c: CompactV1): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of [c.buf, c.lblStart, c.lblEnd, c.hash, c.sampleStart, c.ts, c.vs]) out.add(a.buffer as ArrayBuffer);
  return [...out];
}

/**
 * A 32-bit hash of buf[start, end) (murmur3's mixing, four bytes a step).
 * Not collision-free: the cache compares bytes on a hit.
 */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = (0x9747b28c ^ (end - start)) | 0;
  let i = start;
  // Every index read below is below end <= buf.length.
  for (; i + 4 <= end; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  // The 1 to 3 bytes left.
  const rest = end - i;
  if (rest > 0) {
    let k = buf[i]!;
    if (rest > 1) k ^= buf[i + 1]! << 8;
    if (rest > 2) k ^= buf[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
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
 * Decodes a prometheus.WriteRequest into a CompactV1, or answers null when
 * the body holds anything but the common shapes (then use decodeWriteRequest).
 * The returned arrays are fresh (owned, transferable); buf is kept, not copied.
 */
export function decodeCompactV1(buf: Uint8Array): CompactV1 | null {
  try {
    return new CompactDecoder(buf).run();
  } catch (e) {
    if (e === NOT_TAKEN) return null;
    throw e;
  }
}

class CompactDecoder {
  private pos = 0;
  private n = 0;
  private lblStart = new Uint32Array(INITIAL_SERIES);
  private lblEnd = new Uint32Array(INITIAL_SERIES);
  private hash = new Int32Array(INITIAL_SERIES);
  private sampleStart = new Uint32Array(INITIAL_SERIES + 1);
  private ts: Float64Array;
  private vs: Float64Array;
  private ns = 0;
  private metadata = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // A sample takes at least 13 bytes with both fields set: a first guess that rarely regrows.
    const guess = Math.max(INITIAL_SERIES, Math.ceil(buf.length / 64));
    this.ts = new Float64Array(guess);
    this.vs = new Float64Array(guess);
  }

  run(): CompactV1 {
    const buf = this.buf;
    const end = buf.length;
    while (this.pos < end) {
      const tag = buf[this.pos++]!;
      const len = this.length(end);
      const s = this.pos;
      this.pos = s + len;
      if (tag === TAG_TIMESERIES) this.series(s, s + len);
      else if (tag === TAG_METADATA) this.metadata++;
      else throw NOT_TAKEN;
    }
    this.sampleStart[this.n] = this.ns;
    return {
      buf,
      series: this.n,
      lblStart: this.lblStart,
      lblEnd: this.lblEnd,
      hash: this.hash,
      sampleStart: this.sampleStart,
      ts: this.ts,
      vs: this.vs,
      samples: this.ns,
      metadata: this.metadata,
    };
  }

  /** A length varint of at most 4 bytes (< 2^28) that fits before end; the cursor moves past the varint. */
  private length(end: number): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= end) throw NOT_TAKEN;
    let b = buf[p++]!;
    let len = b & 0x7f;
    if (b >= 0x80) {
      if (p >= end) throw NOT_TAKEN;
      b = buf[p++]!;
      len |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        if (p >= end) throw NOT_TAKEN;
        b = buf[p++]!;
        len |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          if (p >= end) throw NOT_TAKEN;
          b = buf[p++]!;
          if (b >= 0x80) throw NOT_TAKEN;
          len |= b << 21;
        }
      }
    }
    if (len > end - p) throw NOT_TAKEN;
    this.pos = p;
    return len;
  }

  private series(start: number, end: number): void {
    const buf = this.buf;
    if (this.n + 1 >= this.lblStart.length) this.growSeries();
    const i = this.n++;
    this.sampleStart[i] = this.ns;
    let lblS = -1;
    let lblE = -1;
    let afterLabels = false;
    const outer = this.pos;
    this.pos = start;
    while (this.pos < end) {
      const tag = buf[this.pos++]!;
      if (tag === TAG_LABEL) {
        // Labels must be one run: label bytes are the series' identity in the cache.
        if (afterLabels) throw NOT_TAKEN;
        if (lblS < 0) lblS = this.pos - 1;
        const len = this.length(end);
        const s = this.pos;
        this.pos = s + len;
        this.label(s, s + len);
        lblE = this.pos;
      } else if (tag === TAG_SAMPLE) {
        if (lblS >= 0) afterLabels = true;
        const len = this.length(end);
        const s = this.pos;
        this.pos = s + len;
        this.sample(s, s + len);
      } else {
        throw NOT_TAKEN;
      }
    }
    if (lblS < 0) lblS = lblE = start;
    this.lblStart[i] = lblS;
    this.lblEnd[i] = lblE;
    this.hash[i] = hashBytes(buf, lblS, lblE);
    this.pos = outer;
  }

  /** Checks a Label message: only name and value fields, each within the message. */
  private label(start: number, end: number): void {
    const buf = this.buf;
    const outer = this.pos;
    this.pos = start;
    while (this.pos < end) {
      const tag = buf[this.pos++]!;
      if (tag !== TAG_NAME && tag !== TAG_VALUE) throw NOT_TAKEN;
      const len = this.length(end);
      this.pos += len;
    }
    this.pos = outer;
  }

  private sample(start: number, end: number): void {
    const buf = this.buf;
    let v = 0;
    let t = 0;
    let p = start;
    while (p < end) {
      const tag = buf[p++]!;
      if (tag === TAG_SAMPLE_VALUE) {
        if (p + 8 > end) throw NOT_TAKEN;
        v = this.view.getFloat64(p, true);
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
    if (this.ns === this.ts.length) this.growSamples();
    this.ts[this.ns] = t;
    this.vs[this.ns] = v;
    this.ns++;
  }

  private growSeries(): void {
    const cap = this.lblStart.length * 2;
    const grow32 = <T extends Uint32Array | Int32Array>(a: T, make: (n: number) => T, n: number): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.lblStart = grow32(this.lblStart, (k) => new Uint32Array(k), cap);
    this.lblEnd = grow32(this.lblEnd, (k) => new Uint32Array(k), cap);
    this.hash = grow32(this.hash, (k) => new Int32Array(k), cap);
    this.sampleStart = grow32(this.sampleStart, (k) => new Uint32Array(k), cap + 1);
  }

  private growSamples(): void {
    const cap = this.ts.length * 2;
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    const vs = new Float64Array(cap);
    vs.set(this.vs);
    this.ts = ts;
    this.vs = vs;
  }
}
