// xxHash64 (seed 0) of a label set in the binary form Prometheus hashes
// (its default "stringlabels" encoding), so limit_ratio picks the same series
// as Prometheus does.
import type { Labels } from '../../model/labels.js';

const MASK = 0xffffffffffffffffn;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK;
}

function round(acc: bigint, input: bigint): bigint {
  acc = (acc + input * P2) & MASK;
  acc = rotl(acc, 31n);
  return (acc * P1) & MASK;
}

function mergeRound(acc: bigint, val: bigint): bigint {
  acc ^= round(0n, val);
  return (acc * P1 + P4) & MASK;
}

// Callers read whole words inside b (i + 8 <= length, i + 4 <= length, i < length).

function u64(b: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(b[i + j]!);
  return v;
}

function u32(b: Uint8Array, i: number): bigint {
  return BigInt(b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + (BigInt(b[i + 3]!) << 24n);
}

export function xxhash64(b: Uint8Array): bigint {
  const len = b.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & MASK;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (0n - P1) & MASK;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, u64(b, i));
      v2 = round(v2, u64(b, i + 8));
      v3 = round(v3, u64(b, i + 16));
      v4 = round(v4, u64(b, i + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(len)) & MASK;
  for (; i + 8 <= len; i += 8) {
    h ^= round(0n, u64(b, i));
    h = (rotl(h, 27n) * P1 + P4) & MASK;
  }
  if (i + 4 <= len) {
    h ^= (u32(b, i) * P1) & MASK;
    h = (rotl(h, 23n) * P2 + P3) & MASK;
    i += 4;
  }
  for (; i < len; i++) {
    h ^= (BigInt(b[i]!) * P5) & MASK;
    h = (rotl(h, 11n) * P1) & MASK;
  }
  h ^= h >> 33n;
  h = (h * P2) & MASK;
  h ^= h >> 29n;
  h = (h * P3) & MASK;
  h ^= h >> 32n;
  return h;
}

const encoder = new TextEncoder();

function pushSized(out: number[], bytes: Uint8Array): void {
  const n = bytes.length;
  if (n < 255) {
    out.push(n);
  } else {
    out.push(255, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff);
  }
  for (const x of bytes) out.push(x);
}

/** Prometheus's labels.Hash(): xxHash64 of each name and value prefixed by its length. */
export function labelsHash(ls: Labels): bigint {
  const out: number[] = [];
  ls.forEach((name, value) => {
    pushSized(out, encoder.encode(name));
    pushSized(out, encoder.encode(value));
  });
  return xxhash64(Uint8Array.from(out));
}

/** Where a series falls in [0, 1) for limit_ratio: its hash over 2^64. */
export function ratioOffset(ls: Labels): number {
  return Number(labelsHash(ls)) / 18446744073709551616;
}
