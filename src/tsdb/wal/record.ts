// WAL record payloads. One commit is one record, so a torn write loses the
// whole commit and never part of it.
//
//   batch      : 0x01 uvarint(#series) series* uvarint(#samples) [uvarint(baseRef) varint(baseT) sample*]
//     series   : uvarint(ref) uvarint(#labels) (string(name) string(value))*
//     sample   : varint(ref-baseRef) varint(t-baseT) u32le(value low bits) u32le(value high bits)
//   tombstones : 0x02 uvarint(#n) (uvarint(ref) varint(mint) varint(maxt))*
import { Labels } from '../../model/labels.js';
import { CorruptionError, Decbuf, Encbuf } from '../encoding.js';

export const REC_BATCH = 1;
export const REC_TOMBSTONES = 2;

/** Receives the decoded content of records. */
export interface RecordHandler {
  series(ref: number, labels: Labels): void;
  sample(ref: number, t: number, hi: number, lo: number): void;
  tombstone(ref: number, mint: number, maxt: number): void;
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
  } else {
    throw new CorruptionError(`unknown WAL record type ${type}`, file, start);
  }
}

/** Encodes a batch record from plain lists (checkpoints). */
export function encodeBatch(
  e: Encbuf,
  series: readonly { ref: number; labels: Labels }[],
  refs: ArrayLike<number>,
  ts: ArrayLike<number>,
  his: ArrayLike<number>,
  los: ArrayLike<number>,
  n: number,
): void {
  e.putByte(REC_BATCH);
  e.putUvarint(series.length);
  for (const s of series) {
    e.putUvarint(s.ref);
    e.putUvarint(s.labels.length);
    for (const p of s.labels.toPairs()) e.putString(p);
  }
  e.putUvarint(n);
  if (n === 0) return;
  const baseRef = refs[0]!;
  const baseT = ts[0]!;
  e.putUvarint(baseRef);
  e.putVarint(baseT);
  for (let i = 0; i < n; i++) {
    e.putVarint(refs[i]! - baseRef);
    e.putVarint(ts[i]! - baseT);
    e.putF64Bits(his[i]!, los[i]!);
  }
}

export function encodeTombstones(e: Encbuf, refs: ArrayLike<number>, mints: ArrayLike<number>, maxts: ArrayLike<number>, n: number): void {
  e.putByte(REC_TOMBSTONES);
  e.putUvarint(n);
  for (let i = 0; i < n; i++) {
    e.putUvarint(refs[i]!);
    e.putVarint(mints[i]!);
    e.putVarint(maxts[i]!);
  }
}
