// WAL record payloads: the one encoder every writer uses (the head's
// appender and deletions, checkpoints) and the decoder beside it. One commit
// is one record, so a torn write loses the whole commit and never part of it.
// Room tsdb/record: may import model/ and tsdb/encoding only.
//
//   batch      : 0x01 uvarint(#series) series* uvarint(#samples) [uvarint(baseRef) varint(baseT) sample*]
//     series   : uvarint(ref) uvarint(#labels) (string(name) string(value))*
//     sample   : varint(ref-baseRef) varint(t-baseT) u32le(value low bits) u32le(value high bits)
//   tombstones : 0x02 uvarint(#n) (uvarint(ref) varint(mint) varint(maxt))*
//   exemplars  : 0x03 uvarint(#n) [uvarint(baseRef) varint(baseT) exemplar*]
//     exemplar : varint(ref-baseRef) varint(t-baseT) u32le(value low bits) u32le(value high bits)
//                uvarint(#labels) (string(name) string(value))*
//
// An exemplar record follows the batch record of the same commit (its series
// are logged there or earlier), as Prometheus logs exemplars after samples.
import { Labels } from '../../model/labels.js';
import { CorruptionError, Decbuf, Encbuf } from '../encoding/encoding.js';

export const REC_BATCH = 1;
export const REC_TOMBSTONES = 2;
export const REC_EXEMPLARS = 3;

/** Scratch for an exemplar value's bit halves (the host is little-endian: the TSDB checks that at load). */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * Writes records into one reused buffer; nothing is allocated per entry.
 * A batch is written as startBatch(#series), that many series entries,
 * samples(#samples), that many sample() calls, then bytes(). The counts come
 * first because the format puts them before the entries.
 */
export class RecordEncoder {
  private readonly e: Encbuf;
  private baseRef = 0;
  private baseT = 0;
  private first = true;

  /**
   * @param initial starting buffer size
   * @param retained release() cuts a buffer grown past this back to it, so
   *   one large record (a burst of new series) does not pin its size
   */
  constructor(
    initial: number,
    private readonly retained: number,
  ) {
    this.e = new Encbuf(initial);
  }

  startBatch(numSeries: number): void {
    const e = this.e;
    e.reset();
    e.putByte(REC_BATCH);
    e.putUvarint(numSeries);
  }

  /** A series entry from a label set. */
  series(ref: number, labels: Labels): void {
    const e = this.e;
    const n = labels.length;
    e.putUvarint(ref);
    e.putUvarint(n);
    for (let i = 0; i < n; i++) {
      e.putString(labels.nameAt(i));
      e.putString(labels.valueAt(i));
    }
  }

  /** A series entry whose n label pairs are strs[ids[off]], strs[ids[off + 1]], ... (the head's symbol pool). */
  seriesFromSymbols(ref: number, n: number, strs: readonly string[], ids: Uint32Array, off: number): void {
    const e = this.e;
    e.putUvarint(ref);
    e.putUvarint(n);
    // off + 2n is within the pool: the head stores each label set whole.
    for (let i = 0; i < 2 * n; i++) e.putString(strs[ids[off + i]!]!);
  }

  /** Starts the sample part of a batch: exactly n sample() calls follow. */
  samples(n: number): void {
    this.e.putUvarint(n);
    this.first = true;
  }

  sample(ref: number, t: number, hi: number, lo: number): void {
    const e = this.e;
    if (this.first) {
      this.first = false;
      this.baseRef = ref;
      this.baseT = t;
      e.putUvarint(ref);
      e.putVarint(t);
    }
    e.putVarint(ref - this.baseRef);
    e.putVarint(t - this.baseT);
    e.putF64Bits(hi, lo);
  }

  /** Starts a tombstones record: exactly n tombstone() calls follow. */
  startTombstones(n: number): void {
    const e = this.e;
    e.reset();
    e.putByte(REC_TOMBSTONES);
    e.putUvarint(n);
  }

  tombstone(ref: number, mint: number, maxt: number): void {
    const e = this.e;
    e.putUvarint(ref);
    e.putVarint(mint);
    e.putVarint(maxt);
  }

  /** Starts an exemplars record: exactly n exemplar() calls follow. */
  startExemplars(n: number): void {
    const e = this.e;
    e.reset();
    e.putByte(REC_EXEMPLARS);
    e.putUvarint(n);
    this.first = true;
  }

  exemplar(ref: number, t: number, v: number, labels: Labels): void {
    const e = this.e;
    if (this.first) {
      this.first = false;
      this.baseRef = ref;
      this.baseT = t;
      e.putUvarint(ref);
      e.putVarint(t);
    }
    e.putVarint(ref - this.baseRef);
    e.putVarint(t - this.baseT);
    f64[0] = v;
    // u32 views f64's 8 bytes: indexes 0 and 1 exist.
    e.putF64Bits(u32[1]!, u32[0]!);
    const n = labels.length;
    e.putUvarint(n);
    for (let i = 0; i < n; i++) {
      e.putString(labels.nameAt(i));
      e.putString(labels.valueAt(i));
    }
  }

  /** The record written so far: a view valid until the next record starts. */
  bytes(): Buffer {
    return this.e.get();
  }

  /** Current buffer size (for tests of release()). */
  capacity(): number {
    return this.e.buf.length;
  }

  /** Call once the record's bytes are written out: drops an oversized buffer. */
  release(): void {
    this.e.shrinkTo(this.retained);
  }
}

/** Receives the decoded content of records. */
export interface RecordHandler {
  series(ref: number, labels: Labels): void;
  sample(ref: number, t: number, hi: number, lo: number): void;
  tombstone(ref: number, mint: number, maxt: number): void;
  /** One exemplar (t in ms). Optional: exemplar records are skipped, undecoded, by handlers without it. */
  exemplar?(ref: number, t: number, v: number, labels: Labels): void;
}

/** Decodes one record payload, calling the handler per entry. */
export function decodeRecord(buf: Buffer, start: number, end: number, h: RecordHandler, file = ''): void {
  const d = new Decbuf(buf, start, end, file);
  const type = d.byte();
  if (type === REC_BATCH) {
    const ns = d.uvarint();
    for (let i = 0; i < ns; i++) {
      const ref = d.uvarint();
      const nl = d.uvarint();
      const pairs: string[] = new Array(2 * nl);
      for (let j = 0; j < 2 * nl; j++) pairs[j] = d.string();
      h.series(ref, Labels.fromSortedPairs(pairs));
    }
    const n = d.uvarint();
    if (n === 0) return;
    const baseRef = d.uvarint();
    const baseT = d.varint();
    for (let i = 0; i < n; i++) {
      const ref = baseRef + d.varint();
      const t = baseT + d.varint();
      const lo = d.u32LE();
      const hi = d.u32LE();
      h.sample(ref, t, hi, lo);
    }
  } else if (type === REC_TOMBSTONES) {
    const n = d.uvarint();
    for (let i = 0; i < n; i++) h.tombstone(d.uvarint(), d.varint(), d.varint());
  } else if (type === REC_EXEMPLARS) {
    if (h.exemplar === undefined) return;
    const n = d.uvarint();
    if (n === 0) return;
    const baseRef = d.uvarint();
    const baseT = d.varint();
    for (let i = 0; i < n; i++) {
      const ref = baseRef + d.varint();
      const t = baseT + d.varint();
      u32[0] = d.u32LE();
      u32[1] = d.u32LE();
      const v = f64[0]!;
      const nl = d.uvarint();
      const pairs: string[] = new Array(2 * nl);
      for (let j = 0; j < 2 * nl; j++) pairs[j] = d.string();
      h.exemplar(ref, t, v, Labels.fromSortedPairs(pairs));
    }
  } else {
    throw new CorruptionError(`unknown WAL record type ${type}`, file, start);
  }
}
