// ULIDs name blocks, as in Prometheus: 48-bit millisecond time + 80 random
// bits, Crockford base32, so names sort by creation time.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function newULID(now = Date.now()): string {
  let out = '';
  let t = now;
  const timeChars: string[] = [];
  for (let i = 0; i < 10; i++) {
    timeChars.push(ALPHABET.charAt(t % 32));
    t = Math.floor(t / 32);
  }
  out = timeChars.reverse().join('');
  // 80 random bits = 16 chars of 5 bits; read them from 10 random bytes.
  const r = randomBytes(10);
  let acc = 0;
  let bits = 0;
  for (const b of r) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET.charAt((acc >>> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

export function isULID(s: string): boolean {
  return ULID_RE.test(s);
}
