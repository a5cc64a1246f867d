// The chunks of one series in a streamed remote-read answer: floats in
// Prometheus's XOR chunks, native histograms in its HISTOGRAM and
// FLOAT_HISTOGRAM chunks (tsdb/chunkenc writes those bit-exact). A series
// whose samples change type starts a new chunk at each change, as
// Prometheus's head does.
import { ValueType, type SampleIterator } from '../storage/interface.js';
import {
  ENC_FLOAT_HISTOGRAM,
  ENC_HISTOGRAM,
  FloatHistogramChunk,
  HistogramChunk,
  decodeFloatHistogramChunk,
  decodeHistogramChunk,
} from '../tsdb/chunkenc/histogram_chunk.js';
import type { ReadChunk, ReadHistogram } from './read_request.js';
import { PROM_ENC_XOR, PromXorEncoder, SAMPLES_PER_CHUNK, decodePromXor } from './read_xor.js';

/** prompb Chunk.Encoding numbers (the same as the TSDB's chunk encodings). */
export const PROM_ENC_HISTOGRAM = ENC_HISTOGRAM;
export const PROM_ENC_FLOAT_HISTOGRAM = ENC_FLOAT_HISTOGRAM;
/** A histogram chunk is cut once it holds this many bytes and MIN_HISTOGRAM_SAMPLES samples (the head's target size). */
const HISTOGRAM_CHUNK_BYTES = 1024;
const MIN_HISTOGRAM_SAMPLES = 10;

export class ChunkEncodingError extends Error {
  override name = 'ChunkEncodingError';
}

/**
 * Builds one series' chunks from its iterator's samples: add() each sample,
 * then flush() at the series' end; both return a finished chunk or null.
 */
export class SeriesChunker {
  private readonly xor = new PromXorEncoder();
  private kind = ValueType.None;
  private hc: HistogramChunk | null = null;
  private fc: FloatHistogramChunk | null = null;
  private minT = 0;
  private maxT = 0;

  /** Starts a new series. */
  reset(): void {
    this.xor.reset();
    this.kind = ValueType.None;
    this.hc = null;
    this.fc = null;
  }

  /** Adds the iterator's current sample, of type vt; returns the chunk it completed, if any. */
  add(it: SampleIterator, vt: ValueType): ReadChunk | null {
    const t = it.t();
    let done: ReadChunk | null = null;
    if (vt !== this.kind || this.full()) done = this.flush();
    this.kind = vt;
    if (vt === ValueType.Float) {
      this.xor.append(t, it.v());
      return done;
    }
    if (vt === ValueType.Histogram) {
      const h = it.atHistogram!();
      if (this.hc === null) {
        this.hc = new HistogramChunk();
        this.minT = t;
      }
      const r = this.hc.append(t, h);
      if (r.newChunk) done = this.cut(this.hc, t);
      this.hc = r.chunk;
    } else {
      const fh = it.atFloatHistogram!();
      if (this.fc === null) {
        this.fc = new FloatHistogramChunk();
        this.minT = t;
      }
      const r = this.fc.append(t, fh);
      if (r.newChunk) done = this.cut(this.fc, t);
      this.fc = r.chunk;
    }
    this.maxT = t;
    return done;
  }

  /** The chunk being built, finished; null when it is empty. */
  flush(): ReadChunk | null {
    let c: ReadChunk | null = null;
    if (this.kind === ValueType.Float && this.xor.num > 0) {
      c = { minTimeMs: this.xor.minT, maxTimeMs: this.xor.maxT, encoding: PROM_ENC_XOR, data: this.xor.bytes() };
    } else if (this.kind === ValueType.Histogram && this.hc !== null) {
      c = this.histogramChunk(this.hc);
    } else if (this.kind === ValueType.FloatHistogram && this.fc !== null) {
      c = this.histogramChunk(this.fc);
    }
    this.xor.reset();
    this.hc = null;
    this.fc = null;
    this.kind = ValueType.None;
    return c;
  }

  private full(): boolean {
    if (this.kind === ValueType.Float) return this.xor.full();
    const c = this.hc ?? this.fc;
    if (c === null) return false;
    const n = c.numSamples();
    return n >= SAMPLES_PER_CHUNK || (n >= MIN_HISTOGRAM_SAMPLES && c.bytes().length >= HISTOGRAM_CHUNK_BYTES);
  }

  private histogramChunk(c: HistogramChunk | FloatHistogramChunk): ReadChunk {
    return { minTimeMs: this.minT, maxTimeMs: this.maxT, encoding: c.encoding, data: c.bytes().slice() };
  }

  /** The chunk appending cut (a counter reset or a layout it cannot take): finished, the next starts at t. */
  private cut(c: HistogramChunk | FloatHistogramChunk, t: number): ReadChunk {
    const done = this.histogramChunk(c);
    this.minT = t;
    return done;
  }
}

/** Decoded samples of one chunk of a streamed answer, in time order. */
export function decodeReadChunk(c: ReadChunk, float: (t: number, v: number) => void, hist: (x: ReadHistogram) => void): void {
  switch (c.encoding) {
    case PROM_ENC_XOR:
      decodePromXor(c.data, float);
      return;
    case PROM_ENC_HISTOGRAM:
      for (const s of decodeHistogramChunk(c.data)) hist({ t: s.t, h: s.h, fh: null });
      return;
    case PROM_ENC_FLOAT_HISTOGRAM:
      for (const s of decodeFloatHistogramChunk(c.data)) hist({ t: s.t, h: null, fh: s.h });
      return;
    default:
      throw new ChunkEncodingError(`unsupported chunk encoding ${c.encoding}`);
  }
}
